"""What a loan asks of the shopper now: the amount that brings it up to date, and the next bill with
its due date — the one formula pages, auto-debit and the demo use."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.servicing.loans import get_loan, installments
from fenqi.servicing.models import Installment, InstallmentStatus, Loan, LoanStatus


def amount_due(session: Session, loan_id: int, on: date | None = None) -> int:
    """What the shopper must pay on `on` (default today) to be up to date: everything past due, the
    installments falling due by then, and penalties so far, less the credit balance (never negative)."""
    loan = get_loan(session, loan_id)
    if loan.status not in LoanStatus.OPEN:
        return 0
    on = on or business_date(session)
    owed = loan.penalty_receivable_fen + loan.interest_receivable_fen + loan.fee_receivable_fen
    for r in installments(session, loan_id):
        if r.status == InstallmentStatus.DUE:
            owed += r.principal_fen - r.paid_principal_fen
        elif r.status == InstallmentStatus.PENDING and r.due_date <= on:
            owed += unpaid(r)
    return max(0, owed - loan.credit_balance_fen)


def scheduled(r: Installment) -> int:
    """What an installment asks in all as scheduled: its principal, interest and fee (0 on a payment holiday)."""
    return r.principal_fen + r.interest_fen + r.fee_fen


def unpaid(r: Installment) -> int:
    """What an installment still asks: its principal, interest and fee not yet paid."""
    return (
        (r.principal_fen - r.paid_principal_fen) + (r.interest_fen - r.paid_interest_fen) + (r.fee_fen - r.paid_fee_fen)
    )


@dataclass(frozen=True, slots=True)
class Bill:
    """What the shopper owes next: the next unpaid installment, what is overdue, what to pay now, and the
    bills already paid ahead (the credit balance covers them in full; it is applied on their due dates)."""

    period: int | None
    due_date: date | None
    overdue_fen: int  # due and unpaid, with penalty
    to_pay_fen: int  # what "pay now" asks for (overdue first, else the next bill less any credit left)
    paid_ahead: tuple[int, ...] = ()  # periods the credit balance covers in full


def next_bill(loan: Loan, rows: list[Installment]) -> Bill:
    """The next bill of a loan from its installments (`installments(session, loan.id)`).

    With nothing overdue, the credit balance pays the coming bills in order: a bill it covers in full
    counts as paid (ahead) and the next bill is the first it does not cover, less what credit is left."""
    if loan.status not in LoanStatus.OPEN:
        return Bill(None, None, 0, 0)
    due = [r for r in rows if r.status == InstallmentStatus.DUE]
    overdue = sum(unpaid(r) for r in due) + loan.penalty_receivable_fen
    owing = sorted(
        (r for r in rows if r.status in (InstallmentStatus.PENDING, InstallmentStatus.DUE) and unpaid(r) > 0),
        key=lambda r: r.period,
    )
    if overdue:
        upcoming = owing[0] if owing else None
        return Bill(upcoming.period if upcoming else None, upcoming.due_date if upcoming else None, overdue,
                    max(overdue - loan.credit_balance_fen, 0))
    credit, covered = loan.credit_balance_fen, list[int]()
    for r in owing:
        if unpaid(r) > credit:
            return Bill(r.period, r.due_date, 0, unpaid(r) - credit, tuple(covered))
        credit -= unpaid(r)
        covered.append(r.period)
    return Bill(None, None, 0, 0, tuple(covered))


def went_bad(session: Session, loan_ids: Sequence[int], *, dpd: int = 30) -> dict[int, bool]:
    """For each loan: did it go bad — `dpd` or more days past due now, or written off? (The definition
    risk monitoring compares the scorecard's predicted default rates with.)"""
    result: dict[int, bool] = {}
    ids = list(loan_ids)
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(Loan.id, Loan.dpd, Loan.status).where(Loan.id.in_(ids[start:start + 1000]))
        ).all()
        result.update({i: d >= dpd or s == LoanStatus.WRITTEN_OFF for i, d, s in rows})
    return result


def search_loans(session: Session, *, ids: Collection[int] | None = None, status: str = "", bucket: str = "",
                 limit: int = 100) -> list[Loan]:
    """The newest loans (at most `limit`, 1 to 500) among `ids` when given, of a status and a delinquency
    bucket when given; a training store's practice loans are never listed (the loan console's search)."""
    query = select(Loan).where(Loan.training.is_(False))
    if ids is not None:
        query = query.where(Loan.id.in_(list(ids)))
    if status:
        query = query.where(Loan.status == status)
    if bucket:
        query = query.where(Loan.bucket == bucket)
    return list(session.scalars(query.order_by(Loan.id.desc()).limit(min(max(limit, 1), 500))))
