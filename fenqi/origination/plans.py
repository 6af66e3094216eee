"""The chosen plan of an application, priced by fenqi.pricing exactly as the plan menu shows it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import ROUND_DOWN, Decimal

from sqlalchemy.orm import Session

from fenqi.kit.money import ZERO, from_fen, parse_yuan
from fenqi.kit.settings import get_settings
from fenqi.pricing.errors import InvalidDownPayment, PlanNotOffered
from fenqi.pricing.menu import PlanOption, minimum_down_payment, plan_menu
from fenqi.pricing.schedule import Method
from fenqi.pricing.service import get_product, to_spec
from fenqi.pricing.subsidy import coupon_subsidy, merchant_subsidy
from fenqi.promotions.coupons import CouponTerms


def price_plan(
    session: Session, *, price_fen: int, product_code: str, term: int, down_payment: Decimal | str | None,
    start: date, coupon: CouponTerms | None = None,
) -> PlanOption:
    """The one plan (product × term × down payment) the shopper chose, or a clear refusal; with a coupon,
    at the coupon's rates."""
    product = get_product(session, product_code)
    outside = (product.valid_from and start < product.valid_from) or (product.valid_to and start > product.valid_to)
    if not product.active or outside:
        raise PlanNotOffered(f"{product_code}")
    spec = to_spec(product)
    if coupon is not None:
        annual, fee = coupon.rates(spec.annual_rate, spec.fee_rate)
        spec = replace(spec, annual_rate=annual, fee_rate=fee)
    price = from_fen(price_fen)
    down = parse_yuan(down_payment, field="down_payment") if down_payment is not None else None
    low, high = minimum_down_payment(price, spec.down_payment_min_pct), price * spec.down_payment_max_pct
    if down is not None and not low <= down <= high:
        top = high.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        raise InvalidDownPayment(zh=f"该方案的首付须在 ¥{low:,.2f} 至 ¥{top:,.2f} 之间",
                                 en=f"The down payment of this plan must be between ¥{low:,.2f} and ¥{top:,.2f}")
    terms = [term] if term in get_settings().plan_terms else []
    options = plan_menu(price, [spec], terms, start, get_settings().apr_cap, down)
    if not options:
        raise PlanNotOffered(f"{product_code} × {term}")
    return options[0]


def subsidy_for(option: PlanOption, funder_rate: Decimal | None) -> Decimal:
    """Interest-free plans: what the merchant pays so the routed funder earns its own rate."""
    if option.product.method is not Method.INTEREST_FREE or funder_rate is None:
        return ZERO
    return merchant_subsidy(option.quote.financed, [i.total for i in option.quote.installments], funder_rate)


def coupon_cost(base: PlanOption, with_coupon: PlanOption, funder_rate: Decimal | None) -> Decimal:
    """What the application's coupon costs its sponsor (see fenqi.pricing.subsidy.coupon_subsidy)."""
    return coupon_subsidy([i.total for i in base.quote.installments],
                          [i.total for i in with_coupon.quote.installments], funder_rate)
