"""A loan's rows and the bookkeeping every servicing step shares: reading a loan and its schedule,
recording an allocation, delinquency, and checking the stored balances against the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Subquery, select
from sqlalchemy.orm import Session

from fenqi.kit.errors import NotFound
from fenqi.kit.settings import get_settings
from fenqi.ledger import Account, Line, loan_balances
from fenqi.pricing.service import ServicingTerms, servicing_terms
from fenqi.servicing.allocation import Allocation, Owed
from fenqi.servicing.check import LOAN_FIGURES
from fenqi.servicing.errors import LedgerMismatch
from fenqi.servicing.models import Installment, InstallmentStatus, Loan, LoanStatus, Repayment
from fenqi.servicing.rules import bucket_for, days_past_due


def verify_against_ledger(session: Session, loan: Loan) -> None:
    """Check the loan's stored balances against its ledger in the current transaction (one grouped
    query on the loan's journal lines); raise LedgerMismatch on any difference or negative figure."""
    session.flush()
    ledger = loan_balances(session, loan.id)
    diffs = {
        column: (getattr(loan, column), ledger[account])
        for column, account in LOAN_FIGURES
        if getattr(loan, column) != ledger[account] or getattr(loan, column) < 0
    }
    if diffs:
        raise LedgerMismatch(loan.id, diffs)


def get_loan(session: Session, loan_id: int, *, lock: bool = False) -> Loan:
    q = select(Loan).where(Loan.id == loan_id).execution_options(populate_existing=True)
    if lock:
        q = q.with_for_update()
    loan = session.scalar(q)
    if loan is None:
        raise NotFound.saying(f"贷款 {loan_id}", f"loan {loan_id}")
    return loan


def record_goods_price(session: Session, loan_id: int, price_fen: int) -> None:
    """An exchange put a phone of another price on the loan: the price a later exchange's difference is
    reckoned from (what the shopper's phone is worth to them now, not what the first one cost)."""
    get_loan(session, loan_id, lock=True).price_fen = price_fen


def loan_standing() -> Subquery:
    """Each loan's id, status and days past due, as a read-only subquery another domain joins to in its
    own statement (the device check-in reads its device and the loan's standing in one round trip)."""
    return select(Loan.id, Loan.status, Loan.dpd).subquery("loan_standing")


def find_loan(session: Session, loan_id: int) -> Loan | None:
    return session.get(Loan, loan_id)


def is_open(loan: Loan) -> bool:
    """Still running: payments are taken and bills issued (not paid off, written off or cancelled)."""
    return loan.status in LoanStatus.OPEN


def installments(session: Session, loan_id: int) -> list[Installment]:
    return list(
        session.scalars(
            select(Installment)
            .where(Installment.loan_id == loan_id)
            .order_by(Installment.period)
            .execution_options(populate_existing=True)
        )
    )


def repayments(session: Session, loan_id: int) -> list[Repayment]:
    """A loan's payments, oldest first (the shopper's payment history)."""
    return list(session.scalars(select(Repayment).where(Repayment.loan_id == loan_id).order_by(Repayment.id)))


def product_of(session: Session, loan: Loan) -> ServicingTerms:
    """The rules of the loan's product (allocation order, early-repayment terms), through pricing's port."""
    return servicing_terms(session, loan.product_id)


def owed_fen(loan: Loan) -> int:
    """Everything the loan still owes: principal, interest and fees (billed and accrued), penalties."""
    return (
        loan.principal_outstanding_fen
        + loan.interest_receivable_fen
        + loan.interest_accrued_fen
        + loan.fee_receivable_fen
        + loan.fee_accrued_fen
        + loan.penalty_receivable_fen
    )


def owed_installments(rows: Sequence[Installment]) -> list[Owed]:
    return [
        Owed(
            r.period,
            r.fee_fen - r.paid_fee_fen,
            r.interest_fen - r.paid_interest_fen,
            r.principal_fen - r.paid_principal_fen,
        )
        for r in sorted(rows, key=lambda r: (r.due_date, r.period))
        if r.status == InstallmentStatus.DUE
    ]


def refresh_delinquency(loan: Loan, rows: Sequence[Installment]) -> None:
    """oldest_unpaid_due, dpd (as of the last closed date), bucket and active/overdue status.

    Penalty ages like any receivable: while some is unpaid it keeps the due date of the arrears it was
    charged on (the loan's oldest unpaid due date when the penalty was charged), even once those
    installments are paid, so a loan owing only penalty stays overdue, ages and is written off.
    """
    due = [r.due_date for r in rows if r.status == InstallmentStatus.DUE]
    if loan.penalty_receivable_fen > 0 and loan.oldest_unpaid_due is not None:
        due.append(loan.oldest_unpaid_due)
    loan.oldest_unpaid_due = min(due) if due else None
    loan.dpd = days_past_due(loan.cob_date, loan.oldest_unpaid_due)
    loan.bucket = bucket_for(loan.dpd, get_settings().delinquency_buckets)
    if loan.status in LoanStatus.OPEN:
        loan.status = LoanStatus.OVERDUE if loan.dpd > 0 else LoanStatus.ACTIVE


def apply_allocation(loan: Loan, rows: Sequence[Installment], alloc: Allocation, today: date) -> list[Line]:
    """Record an allocation on the installments and the loan; the credit lines of its entry."""
    by_period = {r.period: r for r in rows}
    for period, fen in alloc.fee.items():
        by_period[period].paid_fee_fen += fen
    for period, fen in alloc.interest.items():
        by_period[period].paid_interest_fen += fen
    for period, fen in alloc.principal.items():
        by_period[period].paid_principal_fen += fen
    for r in rows:
        if r.status == InstallmentStatus.DUE and (r.paid_principal_fen, r.paid_interest_fen, r.paid_fee_fen) == (
            r.principal_fen,
            r.interest_fen,
            r.fee_fen,
        ):
            r.status, r.paid_on = InstallmentStatus.PAID, today
    totals = {c: alloc.total(c) for c in ("penalty", "fee", "interest", "principal")}
    loan.penalty_receivable_fen -= totals["penalty"]
    loan.fee_receivable_fen -= totals["fee"]
    loan.interest_receivable_fen -= totals["interest"]
    loan.principal_outstanding_fen -= totals["principal"]
    refresh_delinquency(loan, rows)
    accounts = {
        "penalty": Account.PENALTY_RECEIVABLE,
        "fee": Account.FEE_RECEIVABLE,
        "interest": Account.INTEREST_RECEIVABLE,
        "principal": Account.PRINCIPAL_RECEIVABLE,
    }
    return [Line.cr(accounts[c], fen) for c, fen in totals.items() if fen]


def merge_lines(lines: Sequence[Line]) -> list[Line]:
    """One line per (account, loan, side): the same account credited twice in one entry becomes one line."""
    merged: dict[tuple[str, int | None, bool], int] = {}
    for x in lines:
        k = (str(x.account), x.loan_id, x.debit > 0)
        merged[k] = merged.get(k, 0) + x.debit + x.credit
    return [
        Line(a, debit=fen if is_debit else 0, credit=0 if is_debit else fen, loan_id=lid)
        for (a, lid, is_debit), fen in merged.items()
        if fen
    ]
