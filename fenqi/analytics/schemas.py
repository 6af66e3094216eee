"""Response models of the analytics API. Amounts are yuan text ("3000.00"), rates four-place decimal text
("0.3333"; null where there is nothing to divide by), times in seconds."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FunnelRowOut(_Out):
    key: str = Field(description="The group's key (store or user id, channel, price band index, term, product code)")
    zh: str
    en: str
    counts: dict[str, int | None] = Field(description="Per step; null where the step is not recorded per group")
    conversion: dict[str, str | None] = Field(description="Each step over the one before it")
    median_seconds: dict[str, int | None] = Field(description="Median time from the previous step")
    approved: int
    overall: str | None = Field(description="Handed over / applied")


class DropOffOut(_Out):
    kind: str
    code: str
    zh: str
    en: str
    count: int


class FunnelOut(_Out):
    dimension: str
    start: str
    end: str
    steps: list[str]
    rows: list[FunnelRowOut]
    drop_offs: list[DropOffOut]


class VintageOut(_Out):
    month: str = Field(description="Booking month, 2026-01")
    product_code: str
    name_zh: str
    name_en: str
    loans: int
    financed: str
    bad: list[int] = Field(description="Loans 30+ days past due or written off, by months on book (0: booking month)")
    shares: list[str | None]


class RollRowOut(_Out):
    state: str
    zh: str
    en: str
    loans: int
    to: dict[str, int]
    rates: dict[str, str | None]
    cure_rate: str | None = Field(description="Back to current or closed by the next month end (delinquent buckets)")


class RollOut(_Out):
    first: str | None
    last: str | None
    states: list[str]
    rows: list[RollRowOut]


class LossMonthOut(_Out):
    month: str
    written_off_loans: int
    written_off: str
    recovered: str


class ExpectedLossOut(_Out):
    state: str
    zh: str
    en: str
    loans: int
    principal: str
    provision_rate: str
    expected_loss: str


class PortfolioOut(_Out):
    snapshot_date: str | None
    vintages: list[VintageOut]
    roll_rates: RollOut
    losses: list[LossMonthOut]
    expected_loss: list[ExpectedLossOut]
    expected_loss_total: str


class ProductOut(_Out):
    key: str = Field(description="product code and term, EI-12-12")
    product_code: str
    name_zh: str
    name_en: str
    term: int
    applications: int
    decided: int
    approved: int
    signed: int
    loans: int
    financed: str
    share: str | None
    approval_rate: str | None
    take_up: str | None = Field(description="Signed over approved")
    apr: str | None
    bad_loans: int
    bad_rate: str | None = Field(description="Loans 30+ days past due now or written off, over loans")
    written_off: str
    loss_rate: str | None
    subsidy: str
    subsidy_per_sale: str | None
    funder_margin: str | None = Field(description="Customer APR minus the funder's rate, weighted by amount")


class StoreOut(_Out):
    store_id: int
    name: str
    loans: int
    bad_loans: int
    bad_rate: str | None
    peer_bad_rate: str | None


class SuggestionOut(_Out):
    kind: str
    zh: str
    en: str
    evidence: list[dict[str, str]]
    figures: dict[str, str]


class ProductsOut(_Out):
    products: list[ProductOut]
    stores: list[StoreOut]
    suggestions: list[SuggestionOut]
