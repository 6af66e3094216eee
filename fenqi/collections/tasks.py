"""Collections' jobs (fenqi.kit.jobs): the reminder dispatcher, every minute."""

from __future__ import annotations

from fenqi.collections.reminders import dispatch
from fenqi.kit.db import session_scope
from fenqi.kit.jobs import job


@job("collections.dispatch_reminders", queue="outbox", cron="* * * * *",
     queueing_lock="collections.dispatch_reminders")
def dispatch_reminders(timestamp: int | None = None) -> int:
    """Hand the due notices to the outbox (a batch at a time; the next minute takes the rest)."""
    with session_scope() as session:
        return dispatch(session, limit=2000).queued
