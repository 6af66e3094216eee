"""Reporting's reads of the loans (analytics), so that reports aggregate in SQL without importing
servicing's tables: read-only selectables with stable column names (the loans' terms, the daily snapshot;
a training store's practice loans, 培训模式, left out of every one), and the dashboards' figures as plain rows
(one grouped query each, for one merchant or every merchant but the training merchants)."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Select, Subquery, func, select
from sqlalchemy.orm import Session

from fenqi.catalog.reporting import merchant_scope
from fenqi.servicing.models import Loan, LoanDayBalance, LoanStatus, Repayment

OPEN_STATUSES: tuple[str, ...] = tuple(LoanStatus.OPEN)
WRITTEN_OFF = LoanStatus.WRITTEN_OFF
# Every state a loan can be in, in the order the dashboards list them.
LOAN_STATUSES: tuple[str, ...] = (LoanStatus.ACTIVE, LoanStatus.OVERDUE, LoanStatus.PAID_OFF, LoanStatus.CANCELLED,
                                  LoanStatus.WRITTEN_OFF)


def loans(name: str = "rep_loans") -> Subquery:
    """One row per loan: what it was booked on and how it stands now (no personal data)."""
    return select(
        Loan.id.label("loan_id"), Loan.product_id, Loan.method, Loan.term, Loan.booked_on, Loan.price_fen,
        Loan.financed_fen, Loan.apr, Loan.annual_rate, Loan.merchant_id, Loan.funder_id, Loan.status,
        Loan.closed_on, Loan.dpd, Loan.written_off_fen,
    ).where(Loan.training.is_(False)).subquery(name)


def day_balances(name: str = "rep_day_balances") -> Subquery:
    """The close-of-business snapshot: one row per loan per business date it was open (or closed on)."""
    s = LoanDayBalance
    return select(
        s.business_date, s.loan_id, s.status, s.dpd, s.principal_fen, s.interest_receivable_fen,
        s.fee_receivable_fen, s.penalty_fen, s.written_off_fen,
    ).subquery(name)


def recoveries() -> Subquery:
    """Money received on written-off loans, by business date."""
    return select(Repayment.loan_id, Repayment.business_date, Repayment.recovery_fen).where(
        Repayment.recovery_fen > 0, Repayment.loan_id.not_in(training_loans())).subquery("rep_recoveries")


def training_loans() -> Select[Any]:
    """The ids of the training stores' practice loans (close-of-business writes no snapshot of them)."""
    return select(Loan.id).where(Loan.training.is_(True))


class DayBooked(NamedTuple):
    day: date
    loans: int
    price_fen: int
    financed_fen: int


class PlanLoans(NamedTuple):
    product_id: int
    method: str
    term: int
    loans: int
    financed_fen: int


class BucketLoans(NamedTuple):
    bucket: str
    loans: int
    principal_fen: int


def loans_booked_per_day(session: Session, *, start: date, end: date, merchant_id: int | None = None
                         ) -> list[DayBooked]:
    """Loans booked per business date from start to end: only the dates something was sold, in no order."""
    rows = session.execute(
        select(Loan.booked_on, func.count(), func.coalesce(func.sum(Loan.price_fen), 0),
               func.coalesce(func.sum(Loan.financed_fen), 0))
        .where(Loan.booked_on >= start, Loan.booked_on <= end, *merchant_scope(Loan.merchant_id, merchant_id))
        .group_by(Loan.booked_on)
    ).all()
    return [DayBooked(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows]


def loans_by_plan(session: Session, *, merchant_id: int | None = None, since: date | None = None
                  ) -> list[PlanLoans]:
    """Loans by product, method and term (booked on or after `since` if given), in no order."""
    query = (
        select(Loan.product_id, Loan.method, Loan.term, func.count(), func.coalesce(func.sum(Loan.financed_fen), 0))
        .where(*merchant_scope(Loan.merchant_id, merchant_id))
        .group_by(Loan.product_id, Loan.method, Loan.term)
    )
    if since is not None:
        query = query.where(Loan.booked_on >= since)
    return [PlanLoans(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4])) for r in session.execute(query)]


def open_loans_by_bucket(session: Session, *, merchant_id: int | None = None) -> list[BucketLoans]:
    """Open loans (active and overdue) by delinquency bucket: count and principal outstanding, in no order."""
    rows = session.execute(
        select(Loan.bucket, func.count(), func.coalesce(func.sum(Loan.principal_outstanding_fen), 0))
        .where(Loan.status.in_(OPEN_STATUSES), *merchant_scope(Loan.merchant_id, merchant_id))
        .group_by(Loan.bucket)
    ).all()
    return [BucketLoans(r[0], int(r[1]), int(r[2])) for r in rows]


def loans_per_status(session: Session, *, merchant_id: int | None = None) -> dict[str, int]:
    """How many loans are in each state (only the states some loan is in)."""
    rows = session.execute(
        select(Loan.status, func.count()).where(*merchant_scope(Loan.merchant_id, merchant_id)).group_by(Loan.status)
    ).all()
    return {str(r[0]): int(r[1]) for r in rows}


def open_loans_outstanding(session: Session, *, merchant_id: int | None = None) -> tuple[int, int]:
    """(open loans, their principal outstanding in fen)."""
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(Loan.principal_outstanding_fen), 0))
        .where(Loan.status.in_(OPEN_STATUSES), *merchant_scope(Loan.merchant_id, merchant_id))
    ).one()
    return int(row[0]), int(row[1])
