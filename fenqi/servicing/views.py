"""JSON shapes of servicing objects (amounts as yuan strings with two decimals)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fenqi.kit.money import fmt_rate, from_fen
from fenqi.servicing.models import Installment, Loan, Repayment

if TYPE_CHECKING:
    from fenqi.servicing.service import Cancellation, PayoffQuote


def y(fen: int) -> str:
    return str(from_fen(fen))


def loan_json(loan: Loan) -> dict[str, Any]:
    return {
        "id": loan.id,
        "external_ref": loan.external_ref,
        "status": loan.status,
        "method": loan.method,
        "term": loan.term,
        "financed": y(loan.financed_fen),
        "apr": fmt_rate(loan.apr),
        "annual_rate": fmt_rate(loan.annual_rate),
        "fee_rate": fmt_rate(loan.fee_rate),
        "start_date": loan.start_date.isoformat(),
        "principal_outstanding": y(loan.principal_outstanding_fen),
        "interest_accrued": y(loan.interest_accrued_fen),
        "interest_receivable": y(loan.interest_receivable_fen),
        "fee_accrued": y(loan.fee_accrued_fen),
        "fee_receivable": y(loan.fee_receivable_fen),
        "penalty_receivable": y(loan.penalty_receivable_fen),
        "credit_balance": y(loan.credit_balance_fen),
        "dpd": loan.dpd,
        "bucket": loan.bucket,
        "written_off": y(loan.written_off_fen),
        "closed_on": loan.closed_on.isoformat() if loan.closed_on else None,
        "closed_through": loan.cob_date.isoformat(),
    }


def installment_json(r: Installment) -> dict[str, Any]:
    return {
        "period": r.period,
        "due_date": r.due_date.isoformat(),
        "principal": y(r.principal_fen),
        "interest": y(r.interest_fen),
        "fee": y(r.fee_fen),
        "total": y(r.principal_fen + r.interest_fen + r.fee_fen),
        "paid_principal": y(r.paid_principal_fen),
        "paid_interest": y(r.paid_interest_fen),
        "paid_fee": y(r.paid_fee_fen),
        "status": r.status,
    }


def repayment_json(rep: Repayment, loan: Loan, replayed: bool) -> dict[str, Any]:
    return {
        "payment_ref": rep.payment_ref,
        "loan_id": rep.loan_id,
        "channel": rep.channel,
        "purpose": rep.purpose,
        "amount": y(rep.amount_fen),
        "business_date": rep.business_date.isoformat(),
        "allocated": {
            "penalty": y(rep.penalty_fen),
            "fee": y(rep.fee_fen),
            "interest": y(rep.interest_fen),
            "principal": y(rep.principal_fen),
            "prepayment_fee": y(rep.prepayment_fee_fen),
            "recovery": y(rep.recovery_fen),
            "credit_balance": y(rep.credit_fen),
        },
        "replayed": replayed,
        "loan": loan_json(loan),
    }


def payoff_json(q: PayoffQuote) -> dict[str, Any]:
    return {
        "loan_id": q.loan_id,
        "date": q.on.isoformat(),
        "principal": y(q.principal),
        "interest": y(q.interest),
        "fee": y(q.fee),
        "penalty": y(q.penalty),
        "prepayment_fee": y(q.prepayment_fee),
        "credit_balance": y(q.credit),
        "total": y(q.total),
        "scheduled": y(q.scheduled),
        "saved": y(q.saved),
        "interest_saved": y(q.interest_saved),
        "fees_saved": y(q.fees_saved),
    }


def cancellation_json(c: Cancellation) -> dict[str, Any]:
    return {
        "loan_id": c.loan.id,
        "status": c.loan.status,
        "down_payment": y(c.down_payment_fen),
        "paid": {
            "principal": y(c.principal_fen),
            "interest": y(c.interest_fen),
            "fee": y(c.fee_fen),
            "prepayment_fee": y(c.prepayment_fee_fen),
            "penalty": y(c.penalty_fen),
            "unapplied": y(c.unapplied_fen),
        },
        "refunded_before": y(c.refunded_before_fen),
        "to_refund": [
            {"item": i.item, "channel": i.channel, "payment_ref": i.payment_ref, "amount": y(i.amount_fen)}
            for i in c.items
        ],
        "total": y(c.total_fen),
    }
