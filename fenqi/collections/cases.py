"""Collection cases: opened and refreshed by close-of-business, the queue, assignment, closing.

Close-of-business (registered by `fenqi.collections.hooks.install`):
- chunk step `collections.cases`: every loan of the chunk with dpd ≥ 1 and no open case gets one; every
  open case of the chunk takes the loan's dpd, bucket, overdue amount and principal as of the close, and
  its recovery score (one INSERT … SELECT and one UPDATE, whatever the chunk's size);
- day step `collections.promises_and_closing` (`fenqi.collections.promises.decide`): pending promises are
  kept or broken, broken promises raise their case, and cases whose loan is cured, paid off, written off
  or cancelled are closed.

The recovery score (0–100) is a deliberately simple rule a collector can check by hand:
  100 − dpd / 2 (an older debt is less likely to be paid; at most −60)
      − 15 per broken promise
      + 10 if the shopper has paid at least one installment in full before (a paying history).
The queue puts cases with broken promises first (more broken promises first), then by bucket (the
earliest bucket first: a case is cheapest to cure early), then the larger overdue amount, then the higher
score, then the older case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, exists, func, insert, literal, select, true, update
from sqlalchemy.orm import Session

from fenqi.collections.loanview import installment, loan
from fenqi.collections.models_cases import CaseStatus, CloseReason, CollectionCase
from fenqi.kit.db import utcnow
from fenqi.kit.errors import InvalidInput, NotFound

BUCKET_ORDER = ("M1", "M2", "M3", "M4+")
_OPEN_LOAN = ("active", "overdue")


def _rows(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)


def _bucket_rank(col: Any) -> Any:
    return case({b: i for i, b in enumerate(BUCKET_ORDER)}, value=col, else_=len(BUCKET_ORDER))


def _due_unpaid(loan_id_col: Any) -> Any:
    """What is unpaid of a loan's installments in status `due`: with the loan's penalty receivable, its
    past-due amount — the same figure as servicing's `next_bill(...).overdue_fen` (tests hold the two
    together)."""
    unpaid = (installment.c.principal_fen - installment.c.paid_principal_fen
              + installment.c.interest_fen - installment.c.paid_interest_fen
              + installment.c.fee_fen - installment.c.paid_fee_fen)
    return (select(func.coalesce(func.sum(unpaid), 0))
            .where(installment.c.loan_id == loan_id_col, installment.c.status == "due").scalar_subquery())


def _score(dpd: Any, broken: Any, loan_id_col: Any) -> Any:
    paid_before = exists().where(installment.c.loan_id == loan_id_col, installment.c.status == "paid")
    raw = (literal(100) - case((dpd > 120, 60), else_=dpd // 2)
           - literal(15) * broken + case((paid_before, 10), else_=0))
    return case((raw < 0, 0), (raw > 100, 100), else_=raw)


def cob_cases(session: Session, day: date, lo_id: int, hi_id: int) -> int:
    """Chunk step: open a case for each past-due loan without one; refresh every open case of the chunk."""
    in_chunk = loan.c.id.between(lo_id, hi_id)
    # The chunk's range on the case too: the planner then reads only the chunk's open cases, not every
    # open case of the book for each chunk (an anti-join over all of them when its estimate is low).
    has_open = exists().where(CollectionCase.loan_id == loan.c.id, CollectionCase.status == CaseStatus.OPEN,
                              CollectionCase.loan_id.between(lo_id, hi_id))
    new = (select(loan.c.id, literal(CaseStatus.OPEN), literal(day), literal(utcnow(), CollectionCase.opened_at.type),
                  loan.c.dpd, loan.c.bucket, loan.c.bucket, literal(0), loan.c.principal_outstanding_fen,
                  literal(50), literal(0))
           .where(in_chunk, loan.c.status.in_(_OPEN_LOAN), loan.c.dpd >= 1, ~has_open))
    opened = _rows(session.execute(insert(CollectionCase).from_select(
        ["loan_id", "status", "opened_on", "opened_at", "dpd", "bucket", "worst_bucket", "overdue_fen",
         "outstanding_fen", "score", "broken_promises"], new)))
    c = CollectionCase.__table__.c
    # UPDATE ... FROM loan: the case's loan row is found once, not once per column that reads it.
    session.execute(
        update(CollectionCase)
        .where(c.status == CaseStatus.OPEN, c.loan_id.between(lo_id, hi_id), loan.c.id == c.loan_id)
        .values(
            dpd=loan.c.dpd, bucket=case((loan.c.dpd >= 1, loan.c.bucket), else_=c.bucket),
            worst_bucket=case((_bucket_rank(loan.c.bucket) > _bucket_rank(c.worst_bucket), loan.c.bucket),
                              else_=c.worst_bucket),
            overdue_fen=_due_unpaid(c.loan_id) + loan.c.penalty_receivable_fen,
            outstanding_fen=loan.c.principal_outstanding_fen,
            score=_score(loan.c.dpd, c.broken_promises, c.loan_id),
        ).execution_options(synchronize_session=False)
    )
    return opened


def close_settled_or_ended(session: Session, day: date, *, loan_id: int | None = None) -> int:
    """Close every open case (or the one of `loan_id`) whose loan is no longer past due, with the reason
    read from the loan. Close-of-business runs it for all; a payment for its own loan at once."""
    c = CollectionCase.__table__.c
    status = select(loan.c.status).where(loan.c.id == c.loan_id).scalar_subquery()
    reason = case(
        (status == "paid_off", CloseReason.PAID_OFF), (status == "written_off", CloseReason.WRITTEN_OFF),
        (status == "cancelled", CloseReason.CANCELLED), else_=CloseReason.CURED)
    ended = exists().where(loan.c.id == c.loan_id, (loan.c.dpd < 1) | loan.c.status.not_in(_OPEN_LOAN))
    result = session.execute(
        update(CollectionCase).where(c.status == CaseStatus.OPEN, ended,
                                     true() if loan_id is None else c.loan_id == loan_id)
        .values(status=CaseStatus.CLOSED, closed_on=day, close_reason=reason)
        .execution_options(synchronize_session=False))
    return _rows(result)


def close_after_payment(session: Session, loan_id: int, day: date) -> int:
    """Port for servicing's repayments: a payment that cures or pays off the loan closes its case now."""
    return close_settled_or_ended(session, day, loan_id=loan_id)


def close_for_settlement(session: Session, loan_id: int, day: date) -> int:
    """Port for hardship: a settlement offer accepted and paid closes the loan's case as `settled`."""
    result = session.execute(
        update(CollectionCase).where(CollectionCase.loan_id == loan_id, CollectionCase.status == CaseStatus.OPEN)
        .values(status=CaseStatus.CLOSED, closed_on=day, close_reason=CloseReason.SETTLED)
        .execution_options(synchronize_session=False))
    return _rows(result)


# --- the queue -------------------------------------------------------------------------------------------


def queue_order() -> list[Any]:
    c = CollectionCase
    return [c.broken_promises.desc(), _bucket_rank(c.bucket), c.overdue_fen.desc(), c.score.desc(), c.id]


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose cases a staff member sees: a collector only those assigned to them; a lead or admin all."""

    user_id: int
    sees_all: bool


def queue(session: Session, scope: Scope, *, bucket: str = "", assignee: int | None = None,
          unassigned: bool = False, status: str = CaseStatus.OPEN, limit: int = 200) -> list[CollectionCase]:
    q = select(CollectionCase).where(CollectionCase.status == status)
    if not scope.sees_all:
        q = q.where(CollectionCase.assigned_user_id == scope.user_id)
    elif unassigned:
        q = q.where(CollectionCase.assigned_user_id.is_(None))
    elif assignee is not None:
        q = q.where(CollectionCase.assigned_user_id == assignee)
    if bucket:
        if bucket not in BUCKET_ORDER:
            raise InvalidInput("bucket", zh="逾期分组应为 M1、M2、M3 或 M4+",
                               en="The overdue bucket must be M1, M2, M3 or M4+")
        q = q.where(CollectionCase.bucket == bucket)
    return list(session.scalars(q.order_by(*queue_order()).limit(min(max(limit, 1), 1000))))


def get_case(session: Session, case_id: int, scope: Scope, *, lock: bool = False) -> CollectionCase:
    """A case the staff member may see: 404 for one that does not exist or is someone else's (a collector
    does not learn which case numbers exist)."""
    q = select(CollectionCase).where(CollectionCase.id == case_id)
    if lock:
        q = q.with_for_update()
    row = session.scalar(q)
    if row is None or not (scope.sees_all or row.assigned_user_id == scope.user_id):
        raise NotFound.saying(f"催收案件 {case_id}", f"case {case_id}")
    return row


def loan_assigned_to(session: Session, loan_id: int, user_id: int) -> bool:
    """Whether the loan's latest case (open, or closed by the payoff that released its phone) is assigned
    to this collector: the only loans whose phones a collector may act on."""
    assignee = session.scalar(select(CollectionCase.assigned_user_id).where(CollectionCase.loan_id == loan_id)
                              .order_by(CollectionCase.id.desc()).limit(1))
    return assignee is not None and assignee == user_id


def open_case_of_loan(session: Session, loan_id: int) -> CollectionCase | None:
    return session.scalar(select(CollectionCase).where(CollectionCase.loan_id == loan_id,
                                                       CollectionCase.status == CaseStatus.OPEN))


# --- assignment ------------------------------------------------------------------------------------------


def assign(session: Session, case_id: int, collector_id: int | None, collectors: dict[int, str]) -> CollectionCase:
    """Manual assignment by a lead (None: back to the pool). `collectors`: the active collectors by id."""
    row = get_case(session, case_id, Scope(0, True), lock=True)
    if row.status != CaseStatus.OPEN:
        raise InvalidInput("case", zh="案件已结案", en="The case is closed")
    if collector_id is not None and collector_id not in collectors:
        raise InvalidInput("collector", zh="请选择一名催收专员", en="Choose a collector")
    row.assigned_user_id = collector_id
    row.assigned_at = utcnow() if collector_id is not None else None
    session.flush()
    return row


def assign_round_robin(session: Session, collectors: list[int], *, bucket: str = "") -> int:
    """Rule-based assignment: each unassigned open case, in queue order, goes to the collector holding the
    fewest open cases of that case's bucket (ties: the lowest user id) — a round robin per bucket that
    also evens out what collectors already hold. Returns how many cases were assigned."""
    if not collectors:
        return 0
    held: dict[tuple[str, int], int] = {(b, u): 0 for b in BUCKET_ORDER for u in collectors}
    counts = session.execute(
        select(CollectionCase.bucket, CollectionCase.assigned_user_id, func.count())
        .where(CollectionCase.status == CaseStatus.OPEN, CollectionCase.assigned_user_id.in_(collectors))
        .group_by(CollectionCase.bucket, CollectionCase.assigned_user_id)).all()
    for b, u, n in counts:
        if u is not None:
            held[(str(b), int(u))] = int(n)
    q = select(CollectionCase).where(and_(CollectionCase.status == CaseStatus.OPEN,
                                          CollectionCase.assigned_user_id.is_(None)))
    if bucket:
        q = q.where(CollectionCase.bucket == bucket)
    now, done = utcnow(), 0
    for row in session.scalars(q.order_by(*queue_order()).with_for_update()):
        bucket_of = row.bucket
        who = min(collectors, key=lambda u: (held.get((bucket_of, u), 0), u))
        row.assigned_user_id, row.assigned_at = who, now
        held[(row.bucket, who)] = held.get((row.bucket, who), 0) + 1
        done += 1
    session.flush()
    return done
