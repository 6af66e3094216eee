"""Funding's JSON shapes: partners with their products and quota, the routing policy, statements."""

from __future__ import annotations

from pydantic import Field

from fenqi.kit.schemas import Day, Money, Out, Rate


class FunderProductOut(Out):
    methods: list[str]
    terms: list[int]
    annual_rate: Rate
    min_grade: str


class FunderOut(Out):
    code: str
    name: str
    kind: str
    priority: int
    regions: list[str] = Field(description="Province codes; empty = nationwide")
    active: bool
    daily_quota: Money
    monthly_quota: Money
    daily_left: Money
    monthly_left: Money
    products: list[FunderProductOut]


class FunderList(Out):
    funders: list[FunderOut]


class PolicyOut(Out):
    strategy: str
    priority_list: list[str]
    pilot_funder: str | None
    pilot_share: Rate


class StatementLine(Out):
    date: Day
    application_id: int
    loan_id: int | None
    funder: str
    returned: bool = Field(description="A return unwinding an earlier disbursement (amounts negative)")
    price: Money
    down_payment: Money
    financed: Money
    subsidy: Money
    merchant_fee: Money
    amount: Money = Field(description="What the funder paid the merchant")


class StatementTotals(Out):
    price: Money
    down_payment: Money
    financed: Money
    subsidy: Money
    merchant_fee: Money
    amount: Money


class StatementOut(Out):
    merchant_id: int
    merchant: str
    from_: Day = Field(alias="from")
    to: Day
    count: int
    lines: list[StatementLine]
    totals: StatementTotals
