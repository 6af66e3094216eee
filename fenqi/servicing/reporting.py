"""Read-only selectables for reporting (analytics): the loans' terms and the daily snapshot, with stable
column names, so that reports aggregate in SQL without importing servicing's tables. A training store's
practice loans (培训模式) are left out of every one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Subquery, select

from fenqi.servicing.models import Loan, LoanDayBalance, LoanStatus, Repayment

OPEN_STATUSES: tuple[str, ...] = tuple(LoanStatus.OPEN)
WRITTEN_OFF = LoanStatus.WRITTEN_OFF


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
