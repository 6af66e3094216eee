"""A quote: one validated plan for a price, with its schedule, totals and APR."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import ZERO, fmt_percent, fmt_rate, fmt_yuan, parse_rate, parse_yuan, rate_as_disclosed
from fenqi.pricing.apr import apr as compute_apr
from fenqi.pricing.errors import (
    AprAboveCap,
    InvalidDownPayment,
    InvalidPrice,
    InvalidTerm,
    RateNotApplicable,
    UnknownMethod,
)
from fenqi.pricing.schedule import Installment, Method, build_schedule

MAX_PRICE = Decimal("1000000.00")
MAX_TERM = 60


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    price: Decimal
    down_payment: Decimal
    term: int
    method: Method
    annual_rate: Decimal
    fee_rate: Decimal
    start: date


@dataclass(frozen=True, slots=True)
class Quote:
    request: QuoteRequest
    installments: list[Installment]
    apr: Decimal

    @property
    def financed(self) -> Decimal:
        return self.request.price - self.request.down_payment

    @property
    def total_interest(self) -> Decimal:
        return sum((i.interest for i in self.installments), ZERO)

    @property
    def total_fee(self) -> Decimal:
        return sum((i.fee for i in self.installments), ZERO)

    @property
    def total_repayment(self) -> Decimal:
        return sum((i.total for i in self.installments), ZERO)

    @property
    def total_cost(self) -> Decimal:
        return self.total_interest + self.total_fee

    def to_json(self) -> dict[str, Any]:
        r = self.request
        return {
            "price": fmt_yuan(r.price),
            "down_payment": fmt_yuan(r.down_payment),
            "financed": fmt_yuan(self.financed),
            "method": r.method.value,
            "term": r.term,
            "annual_rate": fmt_rate(r.annual_rate),
            "fee_rate": fmt_rate(r.fee_rate),
            "apr": fmt_rate(self.apr),
            "total_interest": fmt_yuan(self.total_interest),
            "total_fee": fmt_yuan(self.total_fee),
            "total_repayment": fmt_yuan(self.total_repayment),
            "installments": [installment_json(i) for i in self.installments],
        }


def installment_json(i: Installment) -> dict[str, Any]:
    return {
        "period": i.period,
        "due_date": i.due_date.isoformat(),
        "principal": fmt_yuan(i.principal),
        "interest": fmt_yuan(i.interest),
        "fee": fmt_yuan(i.fee),
        "total": fmt_yuan(i.total),
        "remaining_principal": fmt_yuan(i.remaining_principal),
    }


def parse_method(raw: object) -> Method:
    try:
        return Method(str(raw).strip().lower())
    except ValueError:
        raise UnknownMethod(str(raw)) from None


def parse_term(raw: object) -> int:
    if isinstance(raw, bool):
        raise InvalidTerm()
    try:
        term = int(str(raw).strip())
    except ValueError:
        raise InvalidTerm() from None
    if not 1 <= term <= MAX_TERM:
        raise InvalidTerm()
    return term


def parse_start(raw: object, default: date) -> date:
    if raw is None or raw == "":
        return default
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise InvalidInput.saying(f"起始日期 {raw} 无效（YYYY-MM-DD）", f"start={raw} (YYYY-MM-DD)") from None


def make_request(
    *,
    price: object,
    down_payment: object = "0",
    term: object,
    method: object,
    annual_rate: object = "0",
    fee_rate: object = "0",
    start: object = None,
    today: date,
) -> QuoteRequest:
    """Validate raw input (CLI strings or JSON values) into a QuoteRequest, refusing bad input clearly."""
    price_d = parse_yuan(price, field="price")
    if not ZERO < price_d <= MAX_PRICE:
        raise InvalidPrice()
    down = parse_yuan(down_payment if down_payment is not None else "0", field="down_payment")
    if not ZERO <= down < price_d:
        raise InvalidDownPayment()
    method_e = parse_method(method)
    term_i = parse_term(term)
    rate = parse_rate(annual_rate if annual_rate is not None else "0", field="annual_rate")
    fee = parse_rate(fee_rate if fee_rate is not None else "0", field="fee_rate")
    check_rates_fit_method(method_e, rate, fee)
    return QuoteRequest(price_d, down, term_i, method_e, rate, fee, parse_start(start, today))


def check_rates_fit_method(method: Method, annual_rate: Decimal, fee_rate: Decimal) -> None:
    # A rate the method does not use would be silently ignored; refusing it avoids a misleading quote.
    if method is Method.FLAT_FEE and annual_rate:
        raise RateNotApplicable(
            zh="每期手续费方案按 fee_rate 计费，不能同时设置年利率 annual_rate",
            en="A flat-fee plan charges fee_rate per period; annual_rate must be 0",
        )
    if method is Method.INTEREST_FREE and (annual_rate or fee_rate):
        raise RateNotApplicable(
            zh="免息方案的利率和手续费率须为 0（费用由商户贴息承担）",
            en="An interest-free plan has no rate or fee for the shopper (the merchant pays a subsidy)",
        )
    if method in (Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL) and fee_rate:
        raise RateNotApplicable(
            zh="等额本息/等额本金方案按年利率 annual_rate 计息，不能设置 fee_rate",
            en="Equal-installment and equal-principal plans charge annual_rate; fee_rate must be 0",
        )


def quote(request: QuoteRequest, apr_cap: Decimal) -> Quote:
    """Build the schedule and its APR; refuse a plan whose APR is above the cap."""
    financed = request.price - request.down_payment
    installments = build_schedule(
        request.method, financed, request.term, request.start, request.annual_rate, request.fee_rate
    )
    guess = request.annual_rate / 12 if request.annual_rate > 0 else None
    plan_apr = compute_apr(financed, [i.total for i in installments], guess)
    # Compared as disclosed (four decimals, half up): rounding a payment to the fen can move the exact
    # IRR by a hair, and a 24.00% plan must not be refused for a 0.004% rounding artefact.
    if rate_as_disclosed(plan_apr) > apr_cap:
        raise AprAboveCap(apr=fmt_percent(plan_apr), cap=fmt_percent(apr_cap))
    return Quote(request, installments, plan_apr)
