"""Campaigns over HTTP: amounts in yuan (strings), dates ISO."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

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


class CouponIssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$",
                       description="The issue's name, to find its coupons again")
    kind: Literal["rate_cut", "interest_free"] = Field(description="rate_cut: 减息券; interest_free: 免息券")
    rate_cut: Decimal = Field(Decimal(0), ge=0, le=Decimal("0.36"), max_digits=6, decimal_places=4,
                              description="rate_cut only: annual rate points taken off, e.g. 0.05")
    name_zh: str = Field(min_length=1, max_length=80)
    name_en: str = Field(min_length=1, max_length=80)
    merchant_id: EntityId = Field(description="The merchant paying for the coupons; they apply in its stores")
    valid_from: date
    valid_to: date
    product_codes: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list,
                                                                                  max_length=50)
    terms: list[Annotated[int, Field(ge=1, le=60)]] = Field(default_factory=list, max_length=12)
    min_price: Amount = Decimal(0)
    phones: list[Annotated[str, Field(min_length=5, max_length=20)]] = Field(
        min_length=1, max_length=1000, description="The shoppers' mobile numbers: one coupon each")


class CouponOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    batch: str
    kind: str
    rate_cut: str
    name_zh: str
    name_en: str
    merchant_id: int
    valid_from: date
    valid_to: date
    product_codes: list[str]
    terms: list[int]
    min_price: str
    status: str
    subsidy: str
    reinstated: int


class CouponList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[CouponOut]


class ShareLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=60)
    product: str | None = Field(None, max_length=40)
    term: int | None = Field(None, ge=1, le=60)
    store_id: EntityId | None = Field(None, description="Default: the clerk's store")


class ShareLinkOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str
    url: str
    merchant_id: int
    store_id: int | None
    clerk_user_id: int | None
    sku: str
    product: str | None
    term: int | None
    visits: int
    applications: int
