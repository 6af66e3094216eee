"""The book as finance sees it, in one set of figures (`fenqi simulate` prints them after its run)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.money import from_fen
from fenqi.ledger import Account, account_balance
from fenqi.servicing.models import Loan, LoanStatus

STATUSES = (LoanStatus.ACTIVE, LoanStatus.OVERDUE, LoanStatus.PAID_OFF, LoanStatus.WRITTEN_OFF, LoanStatus.CANCELLED)


def has_loans(session: Session) -> bool:
    return session.scalar(select(Loan.id).limit(1)) is not None


def portfolio(session: Session) -> dict[str, Any]:
    """The book as finance sees it: outstanding, collected, income by kind, DPD distribution, losses."""

    def y(fen: int) -> str:
        return str(from_fen(fen))

    by_status = dict(session.execute(select(Loan.status, func.count()).group_by(Loan.status)).all())
    open_loans = Loan.status.in_(LoanStatus.OPEN)
    buckets = dict(session.execute(select(Loan.bucket, func.count()).where(open_loans).group_by(Loan.bucket)).all())
    outstanding = int(session.scalar(select(func.coalesce(func.sum(Loan.principal_outstanding_fen), 0))) or 0)
    cash = sum(account_balance(session, a) for a in (Account.CASH_ALIPAY, Account.CASH_WECHATPAY, Account.CASH_BANK))
    financed = int(session.scalar(select(func.coalesce(func.sum(Loan.financed_fen), 0))) or 0)
    income = {
        "interest": account_balance(session, Account.INTEREST_INCOME),
        "fee": account_balance(session, Account.FEE_INCOME),
        "penalty": account_balance(session, Account.PENALTY_INCOME),
        "recoveries": account_balance(session, Account.RECOVERY_INCOME),
    }
    losses = account_balance(session, Account.WRITE_OFF_EXPENSE)
    figures: dict[str, Any] = {
        "business_date": business_date(session).isoformat(),
        "loans_by_status": {k: by_status.get(k, 0) for k in STATUSES},
        "financed": y(financed),
        "outstanding_principal": y(outstanding),
        "receivable": {
            "interest": y(account_balance(session, Account.INTEREST_RECEIVABLE)),
            "fee": y(account_balance(session, Account.FEE_RECEIVABLE)),
            "penalty": y(account_balance(session, Account.PENALTY_RECEIVABLE)),
            "accrued_interest": y(account_balance(session, Account.INTEREST_ACCRUED)),
            "accrued_fee": y(account_balance(session, Account.FEE_ACCRUED)),
        },
        "collected": y(cash),
        "income": {k: y(v) for k, v in income.items()},
        "credit_balances": y(account_balance(session, Account.CUSTOMER_CREDIT)),
        "dpd_buckets": {k: buckets[k] for k in sorted(buckets)},
        "losses_written_off": y(losses),
        "loss_rate": f"{losses / financed:.4f}" if financed else "0.0000",
    }
    return figures
