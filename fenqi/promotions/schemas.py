"""Campaigns over HTTP: amounts in yuan (strings), dates ISO."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from fenqi.kit.bounds import Amount, EntityId


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    merchant_id: EntityId | None = Field(None, description="The merchant paying the subsidy (staff of a merchant: "
                                         "their own, the default)")
    name_zh: str = Field(min_length=1, max_length=80)
    name_en: str = Field(min_length=1, max_length=80)
    product_code: str = Field(min_length=1, max_length=40)
    starts_on: date
    ends_on: date
    sku_codes: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(default_factory=list, max_length=500)
    store_ids: list[EntityId] = Field(default_factory=list, max_length=500)
    terms: list[Annotated[int, Field(ge=1, le=60)]] = Field(default_factory=list, max_length=12)
    budget: Amount


class CampaignOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    merchant_id: int
    name_zh: str
    name_en: str
    product_code: str
    starts_on: date
    ends_on: date
    sku_codes: list[str]
    store_ids: list[int]
    terms: list[int]
    budget: str
    spent: str
    left: str
    sales: int
    status: str
