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
                                description="A payment platform's channel code in payments (alipay, wechat)")
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
