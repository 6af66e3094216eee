"""The ledger's JSON shapes: the trial balance and journal entries (amounts in yuan strings), and the books
check (amounts in fen)."""

from __future__ import annotations

from pydantic import Field

from fenqi.kit.schemas import Day, Money, Out


class AccountBalance(Out):
    account: str
    name_zh: str
    name_en: str
    kind: str
    debits: Money
    credits: Money
    balance: Money


class TrialBalance(Out):
    as_of: Day | None
    accounts: list[AccountBalance]
    total_debits: Money
    total_credits: Money
    balanced: bool


class JournalLineOut(Out):
    account: str
    loan_id: int | None
    debit: Money
    credit: Money


class JournalEntryOut(Out):
    id: int
    business_date: Day
    reason: str
    idempotency_key: str
    payment_ref: str | None
    memo: str
    reverses_id: int | None
    lines: list[JournalLineOut]


# -- the books check (GET /api/v1/ledger/check, `fenqi ledger check`) ----------------------------------
# The ledger's own part (the journal) and the loan subledger's part (servicing's loans compared with their
# ledger accounts, registered by `fenqi.wiring`). The ledger keeps accounts per loan, so it can describe what
# a loan that differs from its accounts looks like without importing servicing.


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
