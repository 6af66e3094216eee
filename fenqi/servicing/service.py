"""Loan servicing, the port other domains call: booking, repayment, early repayment, credit balances,
refunds, write-off, returns, and what a loan asks of the shopper.

    from fenqi.servicing.service import book_loan, apply_repayment

    loan = book_loan(session, external_ref=contract_no, product_code="EI-12", financed_fen=499_900, term=12)
    result = apply_repayment(session, loan_id=loan.id, amount_fen=44_417, payment_ref=out_trade_no,
                             channel="alipay")

Every change of a loan's money figures is made together with the journal entry that moves the same
amount, in the caller's transaction (services never commit), and checked against the loan's ledger
before the call returns. Repayments are idempotent by payment_ref, refunds by refund_ref, returns by
return_ref.

The work is done by one module per business step — booking, repayment (the waterfall and the credit
balance), prepayment (payoff quote, re-amortization), lifecycle (write-off, return, refunds, closing a
loan), queries (amount due, the next bill) — over the shared bookkeeping in fenqi.servicing.loans; this
module only re-exports their public functions and DTOs.
"""

from __future__ import annotations

from fenqi.servicing.booking import book_loan
from fenqi.servicing.errors import InvariantViolation, LedgerMismatch, LoanNotOpen
from fenqi.servicing.lifecycle import (
    Cancellation,
    RefundDue,
    cancel_loan,
    close_loan,
    mark_written_off,
    refund_credit,
    write_off,
)
from fenqi.servicing.loans import (
    find_loan,
    get_loan,
    installments,
    is_open,
    loan_standing,
    product_of,
    record_goods_price,
    refresh_delinquency,
    repayments,
    verify_against_ledger,
)
from fenqi.servicing.models import LoanStatus
from fenqi.servicing.prepayment import PayoffQuote, payoff_quote
from fenqi.servicing.queries import Bill, amount_due, next_bill, scheduled, search_loans, unpaid
from fenqi.servicing.repayment import (
    CHOICES,
    PURPOSES,
    PrepaymentChoice,
    Purpose,
    RepaymentResult,
    apply_credit,
    apply_repayment,
)

__all__ = [
    "CHOICES",
    "PURPOSES",
    "Bill",
    "Cancellation",
    "InvariantViolation",
    "LedgerMismatch",
    "LoanNotOpen",
    "LoanStatus",
    "PayoffQuote",
    "PrepaymentChoice",
    "Purpose",
    "RefundDue",
    "RepaymentResult",
    "amount_due",
    "apply_credit",
    "apply_repayment",
    "book_loan",
    "cancel_loan",
    "close_loan",
    "find_loan",
    "get_loan",
    "installments",
    "is_open",
    "loan_standing",
    "mark_written_off",
    "next_bill",
    "payoff_quote",
    "product_of",
    "record_goods_price",
    "refresh_delinquency",
    "refund_credit",
    "repayments",
    "scheduled",
    "search_loans",
    "unpaid",
    "verify_against_ledger",
    "write_off",
]
