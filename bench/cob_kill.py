"""The close-of-business benchmark's crash check: one worker killed mid-run, the day still identical.

The generated book is copied (`CREATE DATABASE ... TEMPLATE`) before the day is closed. The original is
closed normally; on the copy, once a third of the chunks are done, one of the worker processes is killed
with SIGKILL (its chunk's transaction dies with its connection), procrastinate's stalled-job retry
(`fenqi.kit.jobs.retry_stalled_now`, the same the workers run periodically) gives the job back, and the
other worker finishes the day. Then both books are digested — every loan row's figures, the journal
summed by day, reason, account and loan, and the daily loan snapshot — and must be equal.
"""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import date

import psycopg

STALLED_AFTER = 15  # seconds without a heartbeat (production: FENQI_JOBS_STALLED_SECONDS, 60)
LOAN = ("id, status, principal_outstanding_fen, interest_accrued_fen, interest_receivable_fen, fee_accrued_fen, "
        "fee_receivable_fen, penalty_receivable_fen, credit_balance_fen, dpd, bucket, oldest_unpaid_due, "
        "penalty_charged_fen, cap_budget_nfen, written_off_fen, cob_date, cur_period, cur_due_date, closed_on")
DIGESTS = {
    "loans": f"SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) FROM (SELECT {LOAN} FROM loan) t",
    "journal": (
        "SELECT md5(string_agg(t::text, '|' ORDER BY t.business_date, t.reason, t.account, t.loan_id)) FROM ("
        "SELECT e.business_date, e.reason, x.account, x.loan_id, SUM(x.debit_fen) dr, SUM(x.credit_fen) cr "
        "FROM journal_line x JOIN journal_entry e ON e.id = x.entry_id "
        "GROUP BY e.business_date, e.reason, x.account, x.loan_id) t"),
    "snapshot": ("SELECT md5(string_agg(t::text, '|' ORDER BY t.business_date, t.loan_id)) "
                 "FROM loan_day_balance t"),
}


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def digest(url: str) -> dict[str, str]:
    with psycopg.connect(_plain(url)) as conn:
        return {name: str(conn.execute(sql).fetchone()[0]) for name, sql in DIGESTS.items()}  # type: ignore[index]


def copy_database(url: str, suffix: str) -> str:
    """A copy of the benchmark's database (nobody may be connected to it meanwhile)."""
    base, name = _plain(url).rsplit("/", 1)
    copy = f"{name}_{suffix}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + copy


def drop_database(url: str) -> None:
    base, name = _plain(url).rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def close_with_a_kill(url: str, day: date, chunk_size: int, victim: subprocess.Popen[bytes],
                      timeout: float = 3600) -> tuple[float, int]:
    """Close `day` on the workers already running on `url`, SIGKILL `victim` a third of the way through.
    Returns (seconds, jobs given back by the stalled-job retry)."""
    from sqlalchemy.orm import Session

    from fenqi.kit.db import make_engine
    from fenqi.kit.jobs import retry_stalled_now
    from fenqi.servicing.cob_runs import start_day

    engine = make_engine(url)
    started = time.perf_counter()
    with Session(engine) as s, s.begin():
        run = start_day(s, day, chunk_size=chunk_size)
        run_id, chunks = run.id, max(run.chunks, 1)
    engine.dispose()
    retried, killed = 0, False
    deadline = time.monotonic() + timeout
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        while True:
            done, status = conn.execute(  # type: ignore[misc]
                "SELECT (SELECT COUNT(*) FROM cob_chunk WHERE run_id = %s AND status = 'done'), "
                "(SELECT status FROM cob_run WHERE id = %s)", (run_id, run_id)).fetchone()
            if status == "done":
                return time.perf_counter() - started, retried
            if not killed and done >= chunks / 3:
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                killed = True
                print(f"  killed worker pid {victim.pid} after {done} of {chunks} chunks")
            if killed:  # longer than the live worker's heartbeat interval (10 s), so only the dead one's job
                retried += retry_stalled_now(STALLED_AFTER, url)
            if time.monotonic() > deadline:
                raise TimeoutError(f"COB {day}: not finished after the kill in {timeout} s")
            time.sleep(1)
