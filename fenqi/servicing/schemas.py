"""Servicing's JSON shapes: loans, their schedule, repayments, payoff quotes, the books check."""

from __future__ import annotations

from pydantic import Field

from fenqi.kit.schemas import Day, Money, Out, Rate
from fenqi.ledger.schemas import JournalEntryOut


class LoanOut(Out):
    id: int
    external_ref: str
    status: str
    method: str
    term: int
    financed: Money
    apr: Rate
    annual_rate: Rate
    fee_rate: Rate
    start_date: Day
    principal_outstanding: Money
    interest_accrued: Money
    interest_receivable: Money
    fee_accrued: Money
    fee_receivable: Money
    penalty_receivable: Money
    credit_balance: Money
    dpd: int = Field(description="Days past due (逾期天数)")
    bucket: str
    written_off: Money
    closed_on: Day | None
    closed_through: Day = Field(description="The last business date closed for this loan")


class InstallmentOut(Out):
    period: int
    due_date: Day
    principal: Money
    interest: Money
    fee: Money
    total: Money
    paid_principal: Money
    paid_interest: Money
    paid_fee: Money
    status: str


class LoanDetail(Out):
    loan: LoanOut
    schedule: list[InstallmentOut]
    entries: list[JournalEntryOut]


class Allocation(Out):
    """Where a repayment went, in the allocation order."""

    penalty: Money
    fee: Money
    interest: Money
    principal: Money
    prepayment_fee: Money
    recovery: Money
    credit_balance: Money


class RepaymentOut(Out):
    payment_ref: str
    loan_id: int
    channel: str
    purpose: str
    amount: Money
    business_date: Day
    allocated: Allocation
    replayed: bool = Field(description="True when this payment had already been applied")
    loan: LoanOut


class PayoffQuoteOut(Out):
    loan_id: int
    date: Day
    principal: Money
    interest: Money
    fee: Money
    penalty: Money
    prepayment_fee: Money
    credit_balance: Money
    total: Money = Field(description="What to pay to close the loan on that date")
    scheduled: Money = Field(description="What paying every bill left on its due date costs (same credit deducted)")
    saved: Money = Field(description="scheduled − total: what paying off saves (negative: it costs more)")
    interest_saved: Money = Field(description="Scheduled interest left less the interest in this quote")
    fees_saved: Money = Field(description="Scheduled fees left less the fees and the prepayment fee in this quote")
