"""The partner registry over HTTP."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Code = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")


class PartnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Code
    name: str = Field(min_length=1, max_length=120)
    role: Literal["funder", "payment_platform", "installment_platform"]
    status: Literal["candidate", "contracted", "ended"] = "candidate"
    funder_code: str | None = Field(None, min_length=1, max_length=40, description="The funder's routing code")
    channel: str | None = Field(None, min_length=1, max_length=16, pattern=r"^[a-z0-9_]+$",
                                description="A payment platform's channel code in payments (alipay, wechatpay)")
    note: str = Field("", max_length=2000)


class LicenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["financial", "payment"]
    number: str = Field(min_length=1, max_length=80)
    scope: str = Field("", max_length=2000)
    valid_from: date
    expires_on: date


class ContractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, max_length=80)
    starts_on: date
    ends_on: date
    terms: dict[str, Any] = Field(default_factory=dict, description="Fee table, settlement days, refund rules, "
                                  "SLA, early/partial repayment terms")


class LicenceOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    number: str
    scope: str
    valid_from: date
    expires_on: date
    valid: bool


class ContractOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str
    starts_on: date
    ends_on: date
    terms: dict[str, Any]
    in_force: bool


class ReminderOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str
    days_before: int
    due_on: date
    raised_on: date


class PartnerOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    role: str
    status: str
    funder_code: str | None
    channel: str | None = None
    note: str
    licences: list[LicenceOut]
    contracts: list[ContractOut]
    routable: bool
    reasons: list[str]  # why it may not be routed to today (zh-CN; English in reasons_en)
    reasons_en: list[str]
    reminders: list[ReminderOut]


class PartnerList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[PartnerOut]


class IndicatorOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str | None = Field(description="The measured or recorded figure, as a decimal string")
    shown: str = Field(description="The figure as the page shows it, in the caller's language")
    n: int | None = Field(description="Sample size behind a measured figure")
    basis: str | None = Field(description="Time window of a measured figure, or source and date of a recorded one")
    recorded: bool
    score: str | None = Field(description="0–100 among partners of the same role")


class ScoredPartnerOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    rank: int
    total: str | None
    criteria: dict[str, str | None]
    indicators: dict[str, IndicatorOut]


class SensitivityOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion: str
    ranks: dict[str, list[int]] = Field(description="Each partner's rank with the weight at −10%, as set, +10%")


class ScorecardOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business: str
    start: date
    end: date
    weights: dict[str, str]
    groups: dict[str, list[ScoredPartnerOut]]
    sensitivity: dict[str, list[SensitivityOut]]


class IntervalOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    estimate: float | None
    low: float | None
    high: float | None
    n: int


class ComparisonOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str
    candidate: IntervalOut
    incumbent: IntervalOut
    difference: IntervalOut
    significant: bool | None
    candidate_better: bool | None


class PilotResultOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    name: str
    candidate: str
    incumbent: str
    share: str
    starts_on: date
    ends_on: date
    status: str
    decision: str | None
    decided_by: int | None
    decided_by_name: str | None
    decided_at: str | None
    routed: int
    to_candidate: int
    comparisons: list[ComparisonOut]
