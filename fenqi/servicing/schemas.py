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


class StoredVsLedger(Out):
    stored: int
    ledger: int


class LoanMismatch(Out):
    """A loan whose stored figures (fen) differ from its ledger balances; only the differing figures."""

    loan_id: int
    principal_outstanding_fen: StoredVsLedger | None = None
    interest_accrued_fen: StoredVsLedger | None = None
    interest_receivable_fen: StoredVsLedger | None = None
    fee_accrued_fen: StoredVsLedger | None = None
    fee_receivable_fen: StoredVsLedger | None = None
    penalty_receivable_fen: StoredVsLedger | None = None
    credit_balance_fen: StoredVsLedger | None = None


class ScheduleMismatch(Out):
    """A loan whose figures (fen) differ from its installments: [loan, schedule] pairs."""

    loan_id: int
    status: str
    principal: list[int | None]
    interest_receivable: list[int | None]
    fee_receivable: list[int | None]
    oldest_unpaid_due: list[str]
    overpaid_installments: int | None
    interest_accrued_of_period: list[int | None]
    fee_accrued_of_period: list[int | None]


class DelinquencyMismatch(Out):
    """[dpd, bucket, status] as stored and as derived from the oldest unpaid due date."""

    loan_id: int
    stored: list[int | str]
    derived: list[int | str]


class TrialBalanceTotals(Out):
    debits: int
    credits: int
    net: int


class SnapshotDifference(Out):
    account: str
    day: str
    snapshot: int = Field(description="Net debits in the snapshot, in fen")
    journal: int = Field(description="Net debits in the journal up to that day, in fen")


class BooksCheck(Out):
    ok: bool
    entries: int
    lines: int
    loans: int
    trial_balance: TrialBalanceTotals = Field(description="In fen")
    unbalanced_entries: list[int]
    orphan_lines_of: list[int]
    loan_mismatches: list[LoanMismatch]
    schedule_mismatches: list[ScheduleMismatch]
    delinquency_mismatches: list[DelinquencyMismatch]
    snapshot_differences: list[SnapshotDifference] = Field(
        default_factory=list, description="Accounts whose last daily snapshot differs from the journal")
