"""Collections' JSON shapes: cases and their promises."""

from __future__ import annotations

from pydantic import Field

from fenqi.kit.schemas import Day, Money, Out, Timestamp


class PromiseOut(Out):
    id: int
    amount: Money
    made_on: Day
    due_on: Day
    status: str = Field(description="pending | kept | broken (decided by close-of-business)")
    decided_on: Day | None
    paid: Money = Field(description="Paid on the loan since the promise was made, as of the decision")


class CaseOut(Out):
    id: int
    loan_id: int
    status: str = Field(description="open | closed")
    opened_on: Day
    closed_on: Day | None
    close_reason: str | None = Field(description="cured | paid_off | written_off | settled | cancelled")
    dpd: int = Field(description="Days past due (逾期天数) as of the last close")
    bucket: str
    overdue: Money = Field(description="Past due with penalty, as of the last close")
    outstanding: Money = Field(description="Principal outstanding, as of the last close")
    score: int = Field(description="Recovery score 0–100 (docs/collections.md)")
    broken_promises: int
    assigned_user_id: int | None
    assigned_at: Timestamp | None


class CaseDetail(Out):
    case: CaseOut
    owed_today: Money = Field(description="What brings the loan up to date today (servicing's amount due)")
    promises: list[PromiseOut]


class CaseList(Out):
    cases: list[CaseOut]
