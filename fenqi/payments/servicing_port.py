"""What payments needs from servicing and the ledger, in one place.

Installment and payoff payments go to `fenqi.servicing.service.apply_repayment` (which posts the
cash entry itself); refunds of a loan's money first move the shopper's credit balance to refunds
payable with `refund_credit`; the auto-debit batch asks what a loan has due.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session


def apply_repayment(session: Session, *, loan_id: int, amount_fen: int, payment_ref: str, channel: str,
                    purpose: str) -> None:
    from fenqi.servicing.service import apply_repayment as servicing_apply

    servicing_apply(session, loan_id=loan_id, amount_fen=amount_fen, payment_ref=payment_ref, channel=channel,
                    purpose="payoff" if purpose == "payoff" else "installment")


def refund_credit(session: Session, *, loan_id: int, amount_fen: int, refund_ref: str) -> None:
    from fenqi.servicing.service import refund_credit as servicing_refund

    servicing_refund(session, loan_id, amount_fen=amount_fen, refund_ref=refund_ref)


def amount_due(session: Session, loan_id: int, on: date) -> tuple[date, int] | None:
    """The oldest unpaid due date and everything due on or before `on` (installments and penalty)."""
    from fenqi.servicing.service import get_loan, installments

    loan = get_loan(session, loan_id)
    oldest: date | None = None
    total = 0
    for row in installments(session, loan_id):
        if row.due_date > on or row.status == "cancelled":
            continue
        unpaid = (row.principal_fen - row.paid_principal_fen) + (row.interest_fen - row.paid_interest_fen) + (
            row.fee_fen - row.paid_fee_fen)
        if unpaid > 0:
            oldest = row.due_date if oldest is None else min(oldest, row.due_date)
            total += unpaid
    if oldest is None:
        return None
    total += loan.penalty_receivable_fen
    # What the shopper already holds as credit is applied by servicing on the due date.
    total -= max(loan.credit_balance_fen, 0)
    return (oldest, total) if total > 0 else None
