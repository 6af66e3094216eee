"""Coupons (优惠券) — issued to shoppers by operations, chosen when applying, redeemed once at signing.

- 减息券 (`rate_cut`): the plan's annual rate is lowered by the coupon's points (never below zero);
  fees stay. Only plans that charge interest qualify.
- 免息券 (`interest_free`): the plan charges neither interest nor fee. Only plans that charge one qualify.

The cost is what the funder gives up: the present value, at the routed funder's own rate, of what the
shopper no longer pays (`fenqi.pricing.subsidy.coupon_subsidy`). The coupon's sponsoring merchant pays it,
withheld from the sale's disbursement exactly like a campaign's subsidy (funding's disbursement entry:
Cr subsidy_income), and a return gives it back with the rest of the disbursement.

Redemption is one conditional UPDATE (`WHERE status = 'issued' AND valid_from <= today <= valid_to`):
two applications signing with the same coupon cannot both take it, on SQLite and PostgreSQL alike.
A sale returned within the return window gives the coupon back (`reinstate`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_merchant
from fenqi.identity.service import shopper_for_phone, user_by_phone
from fenqi.kit.money import fmt_percent, fmt_yuan, from_fen, to_fen
from fenqi.pricing.service import get_product
from fenqi.promotions.errors import CouponExpired, CouponIneligible, CouponNotFound, CouponUsed, InvalidCoupon
from fenqi.promotions.models import Coupon, CouponClaim
from fenqi.promotions.schemas import CouponIssueIn, CouponOut

KINDS = {"rate_cut": ("减息券", "Rate-reduction coupon"), "interest_free": ("免息券", "Interest-free coupon")}
# A coupon given back after a return whose validity has passed stays usable this many days after the return.
REINSTATED_DAYS = 7
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class CouponTerms:
    """What a coupon does to a plan (what origination prices with)."""

    code: str
    kind: str
    rate_cut: Decimal

    def rates(self, annual_rate: Decimal, fee_rate: Decimal) -> tuple[Decimal, Decimal]:
        """The plan's (annual rate, fee rate) with the coupon."""
        if self.kind == "interest_free":
            return Decimal(0), Decimal(0)
        return max(annual_rate - self.rate_cut, Decimal(0)), fee_rate


def _new_code() -> str:
    return "Q" + "".join(secrets.choice(ALPHABET) for _ in range(9))


def issue(session: Session, data: CouponIssueIn, *, actor_user_id: int | None = None) -> list[CouponOut]:
    """One coupon to each phone number's shopper (an account is opened for a number that has none)."""
    if get_merchant(session, data.merchant_id).training:
        # A coupon lands in the real account of a phone number; a practice store cannot sponsor one.
        raise InvalidCoupon("培训门店不能发放优惠券 / a training store cannot issue coupons")
    if data.valid_to < data.valid_from:
        raise InvalidCoupon("结束日期早于开始日期 / ends before it starts")
    if data.kind == "rate_cut" and not Decimal(0) < data.rate_cut <= Decimal("0.36"):
        raise InvalidCoupon("减息幅度须在 0 到 36% 之间 / the rate cut must be above 0 and at most 36%")
    for code in data.product_codes:
        product = get_product(session, code)
        charges = product.annual_rate > 0 if data.kind == "rate_cut" else product.annual_rate + product.fee_rate > 0
        if not charges or product.method == "interest-free":
            raise InvalidCoupon(f"产品 {code} 不收利息，用不上此券 / product {code} charges nothing to reduce")
        wrong = sorted(set(data.terms) - set(product.terms))
        if wrong:
            raise InvalidCoupon(f"期数 {wrong} 不在产品 {code} 的期数内 / terms not offered by the product")
    out = []
    for phone in dict.fromkeys(data.phones):
        owner = shopper_for_phone(session, phone)
        row = Coupon(
            code=_new_code(), batch=data.batch, kind=data.kind,
            rate_cut=data.rate_cut if data.kind == "rate_cut" else Decimal(0), name_zh=data.name_zh,
            name_en=data.name_en, merchant_id=data.merchant_id, shopper_user_id=owner.id,
            valid_from=data.valid_from, valid_to=data.valid_to, product_codes=sorted(set(data.product_codes)),
            terms=sorted(set(data.terms)), min_price_fen=to_fen(data.min_price), status="issued",
            issued_by=actor_user_id, subsidy_fen=0, reinstated=0,
        )
        session.add(row)
        out.append(row)
    session.flush()
    return [to_out(c) for c in out]


def coupons_of(session: Session, shopper_user_id: int) -> list[CouponOut]:
    q = select(Coupon).where(Coupon.shopper_user_id == shopper_user_id).order_by(Coupon.valid_to, Coupon.id)
    return [to_out(c) for c in session.scalars(q)]


def list_batch(session: Session, batch: str) -> list[CouponOut]:
    return [to_out(c) for c in session.scalars(select(Coupon).where(Coupon.batch == batch).order_by(Coupon.id))]


def to_out(c: Coupon) -> CouponOut:
    return CouponOut(
        code=c.code, batch=c.batch, kind=c.kind, rate_cut=str(c.rate_cut), name_zh=c.name_zh, name_en=c.name_en,
        merchant_id=c.merchant_id, valid_from=c.valid_from, valid_to=c.valid_to,
        product_codes=list(c.product_codes), terms=list(c.terms), min_price=fmt_yuan(from_fen(c.min_price_fen)),
        status=c.status, subsidy=fmt_yuan(from_fen(c.subsidy_fen)), reinstated=c.reinstated,
    )


def describe(c: CouponOut, lang: str) -> str:
    """One line a shopper reads: what the coupon does and on what."""
    zh = lang == "zh"
    if c.kind == "interest_free":
        what = "免息（不收利息和手续费）" if zh else "interest-free (no interest, no fee)"
    else:
        what = (f"年利率减 {fmt_percent(Decimal(c.rate_cut))}" if zh
                else f"annual rate {fmt_percent(Decimal(c.rate_cut))} lower")
    terms = "、".join(f"{t}期" for t in c.terms) if zh else ", ".join(f"{t} months" for t in c.terms)
    limits = [terms] if c.terms else []
    if Decimal(c.min_price) > 0:
        limits.append(f"满 ¥{Decimal(c.min_price):,.2f} 可用" if zh else f"phones from ¥{Decimal(c.min_price):,.2f}")
    return what + ("；" if zh else "; ").join(["", *limits]) if limits else what


# --- use ------------------------------------------------------------------------------------------


def _ineligible(zh: str, en: str) -> CouponIneligible:
    return CouponIneligible(zh=CouponIneligible.zh.format(detail=zh), en=CouponIneligible.en.format(detail=en))


def _check(c: Coupon, *, merchant_id: int, product: Any, term: int, price_fen: int, on: date) -> None:
    if c.status != "issued":
        raise CouponUsed(c.code)
    if not c.valid_from <= on <= c.valid_to:
        raise CouponExpired(c.code, zh=CouponExpired.zh.format(detail=c.code) +
                            f"（有效期 {c.valid_from:%Y-%m-%d} 至 {c.valid_to:%Y-%m-%d}）",
                            en=CouponExpired.en.format(detail=c.code) + f" (valid {c.valid_from} to {c.valid_to})")
    if c.merchant_id != merchant_id:
        raise _ineligible("仅限发券商户的门店使用", "it is for another merchant's stores")
    if c.product_codes and product.code not in c.product_codes:
        raise _ineligible(f"仅限指定分期产品（{product.name_zh}不在其列）", f"not for the plan {product.name_en}")
    charges = product.annual_rate > 0 if c.kind == "rate_cut" else product.annual_rate + product.fee_rate > 0
    if not charges or product.method == "interest-free":
        raise _ineligible("此方案本身不收利息，无须用券", "this plan charges no interest to reduce")
    if c.terms and term not in c.terms:
        raise _ineligible(f"仅限{'、'.join(str(t) for t in c.terms)}期", f"only for {c.terms} months")
    if price_fen < c.min_price_fen:
        raise _ineligible(f"手机价格须满 ¥{from_fen(c.min_price_fen):,.2f}",
                          f"the phone must cost at least ¥{from_fen(c.min_price_fen):,.2f}")


def usable(
    session: Session, code: str, *, owner_user_id: int | None, merchant_id: int, product_code: str, term: int,
    price_fen: int, on: date,
) -> CouponTerms:
    """The coupon `code` of that shopper, checked against the plan; raises a clear refusal otherwise."""
    c = session.scalar(select(Coupon).where(Coupon.code == code.strip().upper()[:20]))
    if c is None or owner_user_id is None or c.shopper_user_id != owner_user_id:
        raise CouponNotFound(code.strip()[:20])
    _check(c, merchant_id=merchant_id, product=get_product(session, product_code), term=term, price_fen=price_fen,
           on=on)
    return CouponTerms(c.code, c.kind, c.rate_cut)


def owner_of_phone(session: Session, phone: str) -> int | None:
    """The shopper account of a phone number (a till sale's coupon is the account's of that number)."""
    user = user_by_phone(session, phone)
    return None if user is None or user.role != "shopper" else int(user.id)


def claim(session: Session, application_id: int, terms: CouponTerms) -> None:
    coupon_id = session.scalar(select(Coupon.id).where(Coupon.code == terms.code))
    session.add(CouponClaim(application_id=application_id, coupon_id=coupon_id))
    session.flush()


def claimed(session: Session, application_id: int) -> CouponTerms | None:
    """The coupon an application chose (whatever its state: the plan stays priced with it)."""
    row = session.execute(
        select(Coupon.code, Coupon.kind, Coupon.rate_cut).join(CouponClaim, CouponClaim.coupon_id == Coupon.id)
        .where(CouponClaim.application_id == application_id)
    ).first()
    return None if row is None else CouponTerms(row[0], row[1], row[2])


def still_fits(
    session: Session, application_id: int, *, merchant_id: int, product_code: str, term: int, price_fen: int,
    on: date,
) -> CouponTerms | None:
    """A changed plan keeps the application's coupon if the coupon fits it; otherwise the coupon is let go."""
    c = session.scalar(select(Coupon).join(CouponClaim, CouponClaim.coupon_id == Coupon.id)
                       .where(CouponClaim.application_id == application_id))
    if c is None:
        return None
    try:
        _check(c, merchant_id=merchant_id, product=get_product(session, product_code), term=term,
               price_fen=price_fen, on=on)
    except (CouponIneligible, CouponExpired, CouponUsed):
        session.execute(delete(CouponClaim).where(CouponClaim.application_id == application_id))
        return None
    return CouponTerms(c.code, c.kind, c.rate_cut)


def redeem(session: Session, application_id: int, *, on: date) -> str | None:
    """At signing: take the application's coupon for good (one conditional UPDATE). None when the
    application has no coupon; CouponUsed or CouponExpired when it can no longer be taken."""
    held = session.execute(
        select(Coupon.id, Coupon.code, Coupon.status, Coupon.application_id)
        .join(CouponClaim, CouponClaim.coupon_id == Coupon.id).where(CouponClaim.application_id == application_id)
    ).first()
    if held is None:
        return None
    if held.status == "redeemed" and held.application_id == application_id:
        return str(held.code)  # signing retried
    taken: Any = session.execute(
        update(Coupon).where(Coupon.id == held.id, Coupon.status == "issued", Coupon.valid_from <= on,
                             Coupon.valid_to >= on)
        .values(status="redeemed", application_id=application_id, redeemed_on=on)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        state = session.execute(select(Coupon.status).where(Coupon.id == held.id)).scalar_one()
        raise CouponUsed(held.code) if state != "issued" else CouponExpired(held.code)
    _expire_loaded(session, held.id)
    return str(held.code)


def record_cost(session: Session, application_id: int, *, loan_id: int, subsidy_fen: int) -> None:
    """The signed sale's loan and what the coupon cost its sponsor (booked in the disbursement entry)."""
    session.execute(
        update(Coupon).where(Coupon.application_id == application_id, Coupon.status == "redeemed")
        .values(loan_id=loan_id, subsidy_fen=subsidy_fen).execution_options(synchronize_session=False)
    )
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Coupon) and loaded.application_id == application_id:
            session.expire(loaded)


def reinstate(session: Session, loan_id: int, *, on: date) -> str | None:
    """A returned sale gives its coupon back to the shopper (the disbursement's reversal already gave the
    sponsor back what the coupon cost). Validity that has passed is extended to REINSTATED_DAYS after the
    return. Idempotent; None when the loan used no coupon."""
    found = session.execute(select(Coupon.id, Coupon.code, Coupon.valid_to).where(
        Coupon.loan_id == loan_id, Coupon.status == "redeemed")).first()
    if found is None:
        return None
    session.execute(
        update(Coupon).where(Coupon.id == found.id)
        .values(status="issued", application_id=None, loan_id=None, redeemed_on=None, subsidy_fen=0,
                reinstated=Coupon.reinstated + 1, valid_to=max(found.valid_to, on + timedelta(days=REINSTATED_DAYS)))
        .execution_options(synchronize_session=False)
    )
    _expire_loaded(session, found.id)
    return str(found.code)


def _expire_loaded(session: Session, coupon_id: int) -> None:
    loaded = session.identity_map.get(session.identity_key(Coupon, coupon_id))
    if loaded is not None:
        session.expire(loaded)


@dataclass(frozen=True, slots=True)
class BatchSummary:
    batch: str
    name_zh: str
    name_en: str
    kind: str
    merchant_id: int
    valid_to: date
    issued: int
    redeemed: int
    subsidy_fen: int


def batches(session: Session, limit: int = 50) -> list[BatchSummary]:
    """The latest issues: how many coupons, how many used, what they cost their sponsors."""
    used = func.sum(case((Coupon.status == "redeemed", 1), else_=0))
    rows = session.execute(
        select(Coupon.batch, func.max(Coupon.name_zh), func.max(Coupon.name_en), func.max(Coupon.kind),
               func.max(Coupon.merchant_id), func.max(Coupon.valid_to), func.count(), used,
               func.coalesce(func.sum(Coupon.subsidy_fen), 0))
        .group_by(Coupon.batch).order_by(func.max(Coupon.id).desc()).limit(limit)
    ).all()
    return [BatchSummary(b, zh, en, k, int(m), to, int(n), int(u or 0), int(s))
            for b, zh, en, k, m, to, n, u, s in rows]
