"""What payments needs from servicing and the ledger, in one place.

Installment and payoff payments go to `fenqi.servicing.service.apply_repayment` (which posts the
cash entry itself); refunds of a loan's money first move the shopper's credit balance to refunds
payable with `refund_credit`; the auto-debit batch asks what a loan has due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from fenqi.servicing.service import amount_due as servicing_amount_due
from fenqi.servicing.service import apply_repayment as servicing_apply
from fenqi.servicing.service import find_loan, installments, is_open, next_bill, payoff_quote
from fenqi.servicing.service import refund_credit as servicing_refund


def apply_repayment(session: Session, *, loan_id: int, amount_fen: int, payment_ref: str, channel: str,
                    purpose: str) -> None:
    servicing_apply(session, loan_id=loan_id, amount_fen=amount_fen, payment_ref=payment_ref, channel=channel,
                    purpose="payoff" if purpose == "payoff" else "installment")


def refund_credit(session: Session, *, loan_id: int, amount_fen: int, refund_ref: str) -> None:
    servicing_refund(session, loan_id, amount_fen=amount_fen, refund_ref=refund_ref)


def amount_due(session: Session, loan_id: int, on: date) -> tuple[date, int] | None:
    """The oldest unpaid due date and what brings the loan up to date on `on` (servicing's figure:
    installments due, penalties, less the credit balance), or None when nothing is due."""
    total = servicing_amount_due(session, loan_id, on)
    if total <= 0:
        return None
    unpaid = [
        row.due_date
        for row in installments(session, loan_id)
        if row.due_date <= on
        and row.status != "cancelled"
        and row.principal_fen + row.interest_fen + row.fee_fen
        > row.paid_principal_fen + row.paid_interest_fen + row.paid_fee_fen
    ]
    return (min(unpaid), total) if unpaid else None


@dataclass(frozen=True, slots=True)
class LoanDue:
    """Whose a loan is and what it asks for now: the next bill (installment) and the payoff quote."""

    loan_id: int
    open: bool
    customer_id: int | None
    merchant_id: int | None
    next_bill_fen: int
    payoff_fen: int


def loan_due(session: Session, loan_id: int) -> LoanDue | None:
    """None when there is no such loan."""
    loan = find_loan(session, loan_id)
    if loan is None:
        return None
    running = is_open(loan)
    bill = next_bill(loan, installments(session, loan_id)).to_pay_fen if running else 0
    payoff = payoff_quote(session, loan_id).total if running else 0
    return LoanDue(loan_id=loan.id, open=running, customer_id=loan.customer_id, merchant_id=loan.merchant_id,
                   next_bill_fen=bill, payoff_fen=payoff)


def loan_exists(session: Session, loan_id: int) -> bool:
    return find_loan(session, loan_id) is not None
