"""The plan menu: every product × allowed term for a price, with APR, payment and total cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

from fenqi.kit.errors import DomainError
from fenqi.kit.money import FEN, ZERO, fmt_rate, fmt_yuan
from fenqi.pricing.apr import apr as compute_apr
from fenqi.pricing.quote import Quote, QuoteRequest, quote
from fenqi.pricing.schedule import Method, build_schedule
from fenqi.pricing.subsidy import merchant_subsidy


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """What the menu needs of an installment product (the stored product has more)."""

    code: str
    name_zh: str
    name_en: str
    method: Method
    terms: tuple[int, ...]
    annual_rate: Decimal = ZERO
    fee_rate: Decimal = ZERO
    down_payment_min_pct: Decimal = ZERO
    down_payment_max_pct: Decimal = Decimal("0.9")
    financed_min: Decimal = Decimal("100.00")
    financed_max: Decimal = Decimal("50000.00")
    funder_rate: Decimal = ZERO  # the funder's annual rate, for the merchant subsidy of interest-free plans


@dataclass(frozen=True, slots=True)
class PlanOption:
    product: ProductSpec
    quote: Quote
    subsidy: Decimal

    def to_json(self) -> dict[str, Any]:
        q = self.quote
        return {
            "product": self.product.code,
            "name": {"zh": self.product.name_zh, "en": self.product.name_en},
            "method": q.request.method.value,
            "term": q.request.term,
            "apr": fmt_rate(q.apr),
            "down_payment": fmt_yuan(q.request.down_payment),
            "financed": fmt_yuan(q.financed),
            "first_installment": fmt_yuan(q.installments[0].total),
            "max_installment": fmt_yuan(max(i.total for i in q.installments)),
            "total_interest": fmt_yuan(q.total_interest),
            "total_fee": fmt_yuan(q.total_fee),
            "total_cost": fmt_yuan(q.total_cost),
            "total_repayment": fmt_yuan(q.total_repayment),
            "annual_rate": fmt_rate(q.request.annual_rate),
            "fee_rate": fmt_rate(q.request.fee_rate),
            "merchant_subsidy": fmt_yuan(self.subsidy),
        }


def minimum_down_payment(price: Decimal, pct: Decimal) -> Decimal:
    """The least down payment a product allows, rounded up to the fen so the minimum is honoured."""
    return (price * pct).quantize(FEN, rounding=ROUND_CEILING)


def plan_menu(
    price: Decimal,
    products: list[ProductSpec],
    terms: list[int],
    start: date,
    apr_cap: Decimal,
    down_payment: Decimal | None = None,
) -> list[PlanOption]:
    """Every offerable plan, sorted by term then APR. Plans outside a product's limits or above the
    APR cap are left out: the shopper is only ever shown what can actually be signed."""
    options = []
    for product in products:
        down = down_payment if down_payment is not None else minimum_down_payment(
            price, product.down_payment_min_pct
        )
        if not (
            minimum_down_payment(price, product.down_payment_min_pct)
            <= down
            <= price * product.down_payment_max_pct
        ):
            continue
        financed = price - down
        if not product.financed_min <= financed <= product.financed_max:
            continue
        for term in sorted(set(product.terms) & set(terms)):
            request = QuoteRequest(price, down, term, product.method, product.annual_rate, product.fee_rate, start)
            try:
                plan = quote(request, apr_cap)
            except DomainError:
                continue
            subsidy = (
                merchant_subsidy(financed, [i.total for i in plan.installments], product.funder_rate)
                if product.method is Method.INTEREST_FREE
                else ZERO
            )
            options.append(PlanOption(product, plan, subsidy))
    options.sort(key=lambda o: (o.quote.request.term, o.quote.apr, o.product.code))
    return options


APR_SAMPLE = Decimal("5000.00")  # the loan the products page states each product's APR for


def apr_range(product: ProductSpec, start: date) -> tuple[Decimal, Decimal] | None:
    """The APR a shopper really pays on the product — the lowest and highest over its terms, for a loan
    of ¥5,000 (or the nearest its limits allow): a fee product's APR comes from its fee (not its 0%
    annual rate); an interest-free one is 0 (the merchant pays). The cap is not applied (a term above it
    shows as such; the menu leaves it out)."""
    financed = min(max(APR_SAMPLE, product.financed_min), product.financed_max)
    aprs = []
    for term in product.terms:
        rows = build_schedule(product.method, financed, term, start, product.annual_rate, product.fee_rate)
        guess = product.annual_rate / 12 if product.annual_rate > 0 else None
        aprs.append(compute_apr(financed, [r.total for r in rows], guess))
    return (min(aprs), max(aprs)) if aprs else None
