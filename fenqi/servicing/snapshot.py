"""The daily loan snapshot (`loan_day_balance`), written by close-of-business.

A chunk step copies every loan of the chunk that is open at the end of the day, or closed on it, into
one row per loan per day: one INSERT ... SELECT over the chunk, after close-of-business has moved the
loans. A day step then adds the few loans no chunk covered (closed that day outside the chunks' id
ranges, or booked after the run was prepared). Both first delete the day's rows they are about to
write, so a chunk closed again (or a step re-run) replaces its rows instead of duplicating them; the
primary key (business_date, loan_id) makes a duplicate impossible anyway.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from fenqi.servicing.cob_steps import register_chunk_step, register_day_step
from fenqi.servicing.models import CobChunk, CobRun, LoanStatus

OPEN = "(" + ", ".join(f"'{s}'" for s in LoanStatus.OPEN) + ")"
_COLUMNS = (
    "business_date, loan_id, status, dpd, bucket, principal_fen, interest_accrued_fen, interest_receivable_fen, "
    "fee_accrued_fen, fee_receivable_fen, penalty_fen, credit_fen, written_off_fen"
)
_VALUES = (
    ":d, l.id, l.status, l.dpd, l.bucket, l.principal_outstanding_fen, l.interest_accrued_fen, "
    "l.interest_receivable_fen, l.fee_accrued_fen, l.fee_receivable_fen, l.penalty_receivable_fen, "
    "l.credit_balance_fen, l.written_off_fen"
)
_KEPT = f"(l.status IN {OPEN} OR l.closed_on = :d) AND l.training = false"  # practice loans: none


def snapshot_chunk(session: Session, day: date, lo_id: int, hi_id: int) -> int:
    """Chunk step: the day's row of every loan in [lo_id, hi_id] that is open or closed that day."""
    p = {"d": day, "lo": lo_id, "hi": hi_id}
    session.execute(text("DELETE FROM loan_day_balance WHERE business_date = :d AND loan_id BETWEEN :lo AND :hi"), p)
    res = session.execute(text(
        f"INSERT INTO loan_day_balance ({_COLUMNS}) SELECT {_VALUES} FROM loan l "
        f"WHERE l.id BETWEEN :lo AND :hi AND {_KEPT}"
    ), p)
    return int(getattr(res, "rowcount", 0) or 0)


def snapshot_rest(session: Session, day: date) -> None:
    """Day step: loans of the day no chunk wrote (closed outside the chunks' ranges, booked during the run)."""
    hi = session.scalar(
        select(func.max(CobChunk.hi_id)).join(CobRun, CobRun.id == CobChunk.run_id).where(CobRun.business_date == day)
    )
    session.execute(text(
        f"INSERT INTO loan_day_balance ({_COLUMNS}) SELECT {_VALUES} FROM loan l "
        f"WHERE (l.closed_on = :d OR (l.id > :hi AND l.status IN {OPEN})) AND l.training = false "
        "AND NOT EXISTS (SELECT 1 FROM loan_day_balance s WHERE s.business_date = :d AND s.loan_id = l.id)"
    ), {"d": day, "hi": -1 if hi is None else hi})


def install() -> None:
    register_chunk_step("loan_snapshot", snapshot_chunk, order=10)
    register_day_step("loan_snapshot", snapshot_rest, order=10)
