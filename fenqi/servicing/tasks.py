"""Background jobs of servicing: the nightly close-of-business and its chunks (fenqi.kit.jobs)."""

from __future__ import annotations

import os
import socket

from fenqi.kit.db import get_engine, session_scope
from fenqi.kit.jobs import job, utc_cron_for_local_time
from fenqi.kit.settings import get_settings
from fenqi.servicing.cob_runs import close_chunk_job, start_day

_cob_time = get_settings().cob_time


@job("servicing.cob_start", queue="cob", queueing_lock="servicing.cob_start",
     cron=utc_cron_for_local_time(_cob_time) if _cob_time else None)
def cob_start() -> int:
    """Nightly: cut the business date's close into chunk jobs (they commit together with the run)."""
    with session_scope() as session:
        run = start_day(session)
        return run.id


@job("servicing.cob_chunk", queue="cob", max_attempts=10)
def cob_chunk(chunk_id: int) -> int:
    """Close one chunk of loans; the chunk that commits last finishes the day."""
    stats = close_chunk_job(get_engine(), chunk_id, worker=f"{socket.gethostname()}:{os.getpid()}")
    return stats.loans if stats else 0
