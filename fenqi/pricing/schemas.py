"""Installment products in and out of the API (amounts in yuan strings, rates as fraction strings)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from fenqi.kit.bounds import Amount
from fenqi.kit.money import fmt_rate, fmt_yuan, from_fen
from fenqi.kit.schemas import Bilingual, Day, Money, Out, Rate
from fenqi.pricing.models import Product


class ProductIn(BaseModel):
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$", examples=["EI-12"])
    name_zh: str = Field(min_length=1, max_length=80)
    name_en: str = Field(min_length=1, max_length=80)
    method: str
    terms: list[int] = Field(min_length=1, max_length=60)
    annual_rate: str = "0"
    fee_rate: str = "0"
    down_payment_min_pct: str = "0"
    down_payment_max_pct: str = "0.9"
    financed_min: Amount = Decimal("100.00")
    financed_max: Amount = Decimal("50000.00")
    cost_bearer: Literal["shopper", "merchant"] = "shopper"
    funder_rate: str = "0"
    valid_from: date | None = None
    valid_to: date | None = None
    grace_days: int = Field(3, ge=0, le=30)
    penalty_daily_rate: str = "0.0005"
    late_fee: Amount = Decimal("0.00")
    prepayment_fee_rate: str = "0"
    prepayment_interest_rule: Literal["to_date", "full_period"] = "to_date"


def product_json(p: Product) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": {"zh": p.name_zh, "en": p.name_en},
        "method": p.method,
        "terms": p.terms,
        "annual_rate": fmt_rate(p.annual_rate),
        "fee_rate": fmt_rate(p.fee_rate),
        "down_payment_min_pct": fmt_rate(p.down_payment_min_pct),
        "down_payment_max_pct": fmt_rate(p.down_payment_max_pct),
        "financed_min": fmt_yuan(from_fen(p.financed_min_fen)),
        "financed_max": fmt_yuan(from_fen(p.financed_max_fen)),
        "cost_bearer": p.cost_bearer,
        "funder_rate": fmt_rate(p.funder_rate),
        "valid_from": p.valid_from.isoformat() if p.valid_from else None,
        "valid_to": p.valid_to.isoformat() if p.valid_to else None,
        "active": p.active,
        "grace_days": p.grace_days,
        "penalty_daily_rate": str(p.penalty_daily_rate),
        "late_fee": fmt_yuan(from_fen(p.late_fee_fen)),
        "prepayment_fee_rate": fmt_rate(p.prepayment_fee_rate),
        "prepayment_interest_rule": p.prepayment_interest_rule,
        "allocation_order": p.allocation_order,
    }


# -- responses ---------------------------------------------------------------------------------


class ProductOut(Out):
    code: str
    name: Bilingual
    method: str
    terms: list[int]
    annual_rate: Rate
    fee_rate: Rate
    down_payment_min_pct: Rate
    down_payment_max_pct: Rate
    financed_min: Money
    financed_max: Money
    cost_bearer: str
    funder_rate: Rate
    valid_from: Day | None
    valid_to: Day | None
    active: bool
    grace_days: int
    penalty_daily_rate: Rate
    late_fee: Money
    prepayment_fee_rate: Rate
    prepayment_interest_rule: str
    allocation_order: list[str]


class ProductList(Out):
    products: list[ProductOut]


class QuoteInstallment(Out):
    period: int
    due_date: Day
    principal: Money
    interest: Money
    fee: Money
    total: Money
    remaining_principal: Money


class QuoteOut(Out):
    price: Money
    down_payment: Money
    financed: Money
    method: str
    term: int
    annual_rate: Rate
    fee_rate: Rate
    apr: Rate = Field(description="年化利率: 12 × the monthly IRR of the cash flows")
    total_interest: Money
    total_fee: Money
    total_repayment: Money
    installments: list[QuoteInstallment]


class PlanOut(Out):
    product: str
    name: Bilingual
    method: str
    term: int
    apr: Rate
    down_payment: Money
    financed: Money
    first_installment: Money
    max_installment: Money
    total_interest: Money
    total_fee: Money
    total_cost: Money
    total_repayment: Money
    annual_rate: Rate
    fee_rate: Rate
    merchant_subsidy: Money
