"""Stored products → the pure pricing engine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.errors import Conflict, InvalidInput, NotFound
from fenqi.kit.money import ZERO, from_fen, parse_rate, parse_yuan, to_fen
from fenqi.kit.settings import get_settings
from fenqi.pricing.errors import InvalidTerm
from fenqi.pricing.menu import PlanOption, ProductSpec, plan_menu
from fenqi.pricing.models import Product
from fenqi.pricing.quote import MAX_TERM, Quote, check_rates_fit_method, make_request, parse_method, quote
from fenqi.pricing.schedule import Method
from fenqi.pricing.schemas import ProductIn

RATE_FIELDS = ("annual_rate", "fee_rate", "down_payment_min_pct", "down_payment_max_pct", "funder_rate",
               "penalty_daily_rate", "prepayment_fee_rate")


def to_spec(product: Product) -> ProductSpec:
    return ProductSpec(
        code=product.code,
        name_zh=product.name_zh,
        name_en=product.name_en,
        method=Method(product.method),
        terms=tuple(product.terms),
        annual_rate=product.annual_rate,
        fee_rate=product.fee_rate,
        down_payment_min_pct=product.down_payment_min_pct,
        down_payment_max_pct=product.down_payment_max_pct,
        financed_min=from_fen(product.financed_min_fen),
        financed_max=from_fen(product.financed_max_fen),
        funder_rate=product.funder_rate,
    )


@dataclass(frozen=True, slots=True)
class ServicingTerms:
    """The rules of a product that govern its loans after booking (what servicing asks of pricing)."""

    id: int
    code: str
    allocation_order: tuple[str, ...]
    prepayment_interest_rule: str  # "to_date" | "full_period"
    prepayment_fee_rate: Decimal


def servicing_terms(session: Session, product_id: int) -> ServicingTerms:
    product = session.get(Product, product_id)
    if product is None:  # the loan's foreign key makes this impossible; say so rather than assert
        raise NotFound.saying(f"分期方案 {product_id}", f"product {product_id}")
    return ServicingTerms(id=product.id, code=product.code, allocation_order=tuple(product.allocation_order),
                          prepayment_interest_rule=product.prepayment_interest_rule,
                          prepayment_fee_rate=product.prepayment_fee_rate)


def has_products(session: Session) -> bool:
    return session.scalar(select(Product.id).limit(1)) is not None


def first_product_code(session: Session) -> str | None:
    """The oldest product's code (simulations book on it unless told otherwise)."""
    code: str | None = session.scalars(select(Product.code).order_by(Product.id)).first()
    return code


def active_product_terms(session: Session) -> list[tuple[str, tuple[int, ...]]]:
    """Every active product's code and terms, by code (the simulation picks plans from them)."""
    rows = session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code))
    return [(p.code, tuple(p.terms)) for p in rows]


def all_products(session: Session) -> list[Product]:
    """Every product, the active ones first, then by code (the operations' product list)."""
    return list(session.scalars(select(Product).order_by(Product.active.desc(), Product.code)))


def active_products(session: Session, on: date) -> list[Product]:
    rows = session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code))
    return [
        p for p in rows if (p.valid_from is None or p.valid_from <= on) and (p.valid_to is None or on <= p.valid_to)
    ]


def get_product(session: Session, code: str) -> Product:
    product = session.scalar(select(Product).where(Product.code == code))
    if product is None:
        raise NotFound.saying(f"分期方案 {code}", f"product {code}")
    return product


def product_names(session: Session, codes: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Each known product's names (zh, en) by code, for pages that name plans; unknown codes are left out
    (the caller shows the code)."""
    wanted = set(codes)
    if not wanted:
        return {}
    rows = session.execute(select(Product.code, Product.name_zh, Product.name_en).where(Product.code.in_(wanted)))
    return {code: (zh, en) for code, zh, en in rows}


def menu_for_price(session: Session, price: Decimal, down_payment: Decimal | None = None) -> list[PlanOption]:
    today = business_date(session)
    settings = get_settings()
    specs = [to_spec(p) for p in active_products(session, today)]
    return plan_menu(price, specs, settings.plan_terms, today, settings.apr_cap, down_payment)


def quote_from_input(session: Session | None, today: date | None = None, **raw: object) -> Quote:
    """Validate raw quote input and price it; the start date defaults to the business date."""
    if today is None:
        today = business_date(session) if session is not None else date.today()
    return quote(make_request(today=today, **raw), get_settings().apr_cap)



DEMO_PRODUCTS: list[dict[str, object]] = [
    {
        "code": "EI-12", "name_zh": "等额本息 年化12%", "name_en": "Equal installment, 12% a year",
        "method": "equal-installment", "terms": [3, 6, 12, 24], "annual_rate": Decimal("0.12"),
        "down_payment_min_pct": Decimal("0.10"),
    },
    {
        "code": "EP-10", "name_zh": "等额本金 年化10%", "name_en": "Equal principal, 10% a year",
        "method": "equal-principal", "terms": [6, 12, 24], "annual_rate": Decimal("0.10"),
        "down_payment_min_pct": Decimal("0.20"),
    },
    {
        "code": "FEE-060", "name_zh": "每期手续费 0.60%", "name_en": "Fee 0.60% per period",
        "method": "flat-fee", "terms": [3, 6, 12, 24], "fee_rate": Decimal("0.006"),
        "down_payment_min_pct": Decimal("0"),
    },
    {
        "code": "IF-MERCHANT", "name_zh": "商户贴息 免息", "name_en": "Interest-free (merchant subsidy)",
        "method": "interest-free", "terms": [3, 6, 12], "cost_bearer": "merchant",
        "funder_rate": Decimal("0.08"), "down_payment_min_pct": Decimal("0.10"),
    },
]


def create_product(session: Session, data: ProductIn) -> Product:
    """Validate a product as the pricing engine will use it, then store it."""
    if session.scalar(select(Product.id).where(Product.code == data.code)) is not None:
        raise Conflict.saying(f"分期方案 {data.code} 已存在", f"product {data.code} exists")
    method = parse_method(data.method)
    if any(not 1 <= t <= MAX_TERM for t in data.terms):
        raise InvalidTerm()
    rates = {f: parse_rate(getattr(data, f), field=f) for f in RATE_FIELDS}
    amounts = {f: parse_yuan(getattr(data, f), field=f) for f in ("financed_min", "financed_max", "late_fee")}
    if not rates["down_payment_min_pct"] <= rates["down_payment_max_pct"] < 1:
        raise InvalidInput("down_payment_min_pct ≤ down_payment_max_pct < 1",
                           zh="最低首付比例不得高于最高首付比例，且须低于 100%",
                           en="The minimum down payment share must be at most the maximum, and below 100%")
    if not ZERO < amounts["financed_min"] <= amounts["financed_max"]:
        raise InvalidInput("0 < financed_min ≤ financed_max", zh="最低分期金额须大于 0 且不超过最高分期金额",
                           en="The minimum financed amount must be above 0 and at most the maximum")
    if data.valid_from and data.valid_to and data.valid_to < data.valid_from:
        raise InvalidInput("valid_from ≤ valid_to", zh="有效期的结束日期不得早于开始日期",
                           en="The end of the validity must not be before its start")
    check_rates_fit_method(method, rates["annual_rate"], rates["fee_rate"])
    if (method is Method.INTEREST_FREE) != (data.cost_bearer == "merchant"):
        raise InvalidInput("cost_bearer is 'merchant' exactly for interest-free products",
                           zh="只有免息方案由商家承担费用，免息方案也必须由商家承担",
                           en="The merchant bears the cost exactly for interest-free plans")
    # A term whose plans would breach the APR cap could never be offered: refuse the product now
    # rather than let the menu silently drop it.
    spec_terms = sorted(set(data.terms))
    for term in spec_terms:
        probe = make_request(price=amounts["financed_max"], term=term, method=method.value,
                             annual_rate=rates["annual_rate"], fee_rate=rates["fee_rate"], today=date(2026, 1, 1))
        quote(probe, get_settings().apr_cap)
    product = Product(
        code=data.code, name_zh=data.name_zh, name_en=data.name_en, method=method.value, terms=spec_terms,
        cost_bearer=data.cost_bearer, valid_from=data.valid_from, valid_to=data.valid_to,
        grace_days=data.grace_days, prepayment_interest_rule=data.prepayment_interest_rule,
        financed_min_fen=to_fen(amounts["financed_min"]), financed_max_fen=to_fen(amounts["financed_max"]),
        late_fee_fen=to_fen(amounts["late_fee"]), **rates,
    )
    session.add(product)
    session.flush()
    return product


def set_product_active(session: Session, code: str, active: bool) -> Product:
    product = get_product(session, code)
    product.active = active
    session.flush()
    return product


def seed_products(session: Session) -> None:
    existing = set(session.scalars(select(Product.code)))
    for fields in DEMO_PRODUCTS:
        if fields["code"] not in existing:
            session.add(Product(**fields))
    session.flush()
