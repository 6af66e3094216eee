"""The ledger's JSON shapes: the trial balance and journal entries (amounts in yuan strings)."""

from __future__ import annotations

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
