"""The sales funnel: plan viewed → applied → decided → signed → down payment paid → handed over, grouped by
store, clerk, channel, phone price band, term or product, with each step's conversion, the median time
between steps and why applications stopped where that is known.

Read from the tables that record each step (applications, risk decisions, down payment orders, the phones'
lock records made at handover, and the plan views analytics records itself), through each domain's
`reporting` selectables. Every figure is a grouped query; medians use window functions (the same SQL on
SQLite and PostgreSQL).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, Subquery, and_, case, cast, func, literal, or_, select, update
from sqlalchemy.orm import Session

from fenqi.analytics.models import PlanView
from fenqi.analytics.portfolio import rate
from fenqi.catalog import reporting as catalog_rep
from fenqi.devices import reporting as devices_rep
from fenqi.identity import reporting as identity_rep
from fenqi.kit.clock import business_date
from fenqi.kit.db import utcnow
from fenqi.kit.errors import InvalidInput
from fenqi.origination import reporting as origination_rep
from fenqi.payments import reporting as payments_rep
from fenqi.pricing import reporting as pricing_rep
from fenqi.promotions import reporting as promotions_rep
from fenqi.risk import reporting as risk_rep

STEPS: tuple[tuple[str, str, str], ...] = (
    ("viewed", "查看方案", "Plan viewed"), ("applied", "提交申请", "Applied"), ("decided", "完成审批", "Decided"),
    ("signed", "签约", "Signed"), ("paid", "首付已付", "Down payment paid"), ("handed_over", "交付手机", "Handed over"),
)
DIMENSIONS: dict[str, tuple[str, str]] = {
    "all": ("全部", "All"), "store": ("门店", "Store"), "clerk": ("店员", "Clerk"), "channel": ("渠道", "Channel"),
    "price_band": ("手机价格段", "Phone price band"), "term": ("期数", "Term"), "product": ("产品", "Product"),
    "share_link": ("分享链接", "Share link"), "referrer": ("分享店员", "Referring clerk"),
    "campaign": ("活动", "Campaign"),
}
VIEW_WINDOW_DAYS = 30  # an online shopper's plan views this long before applying count as their first look
NO_LINK = ("未经分享链接", "Not through a share link")
CHANNELS: dict[str, tuple[str, str]] = {"store": ("门店收银台", "Store till"), "online": ("线上", "Online")}
# Upper bounds (fen, exclusive) of the price bands; the last band has none.
PRICE_BANDS: tuple[tuple[int | None, str, str], ...] = (
    (100_000, "1000元以下", "Under ¥1,000"), (200_000, "1000-1999元", "¥1,000-1,999"),
    (400_000, "2000-3999元", "¥2,000-3,999"), (600_000, "4000-5999元", "¥4,000-5,999"),
    (800_000, "6000-7999元", "¥6,000-7,999"), (None, "8000元及以上", "¥8,000 and more"),
)
DROP_OFF: dict[str, tuple[str, str]] = {
    "declined": ("审批拒绝", "Declined"), "in_review": ("人工审核中", "Waiting for manual review"),
    "unfunded": ("资金不足", "No funding"), "cancelled": ("已取消", "Cancelled"),
    "approved_unsigned": ("批准后未签约", "Approved, not signed"),
    "payment_expired": ("首付订单过期", "Down payment order expired"),
    "payment_pending": ("首付未支付", "Down payment not paid"), "not_handed_over": ("未交付", "Not handed over"),
}


@dataclass(frozen=True, slots=True)
class FunnelRow:
    key: str
    zh: str
    en: str
    counts: dict[str, int | None]  # per step; None where the step is not known for this grouping
    median_seconds: dict[str, int | None]  # per step from "applied" on: median time from the previous step
    approved: int

    @property
    def conversion(self) -> dict[str, Decimal | None]:
        """Each step over the step before it (the first step: None)."""
        out: dict[str, Decimal | None] = {}
        before: int | None = None
        for step, _, _ in STEPS:
            n = self.counts.get(step)
            out[step] = rate(n, before) if n is not None and before is not None else None
            before = n
        return out

    @property
    def overall(self) -> Decimal | None:
        return rate(self.counts.get("handed_over") or 0, self.counts.get("applied") or 0)


@dataclass(frozen=True, slots=True)
class DropOff:
    kind: str
    code: str
    zh: str
    en: str
    count: int


@dataclass
class Funnel:
    dimension: str
    start: date
    end: date
    rows: list[FunnelRow] = field(default_factory=list)
    drop_offs: list[DropOff] = field(default_factory=list)


def _seconds(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400


def price_band(price: Any) -> ColumnElement[str]:
    whens = [(price < hi, str(i)) for i, (hi, _, _) in enumerate(PRICE_BANDS) if hi is not None]
    return case((price <= 0, "-1"), *whens, else_=str(len(PRICE_BANDS) - 1))


def application_steps(session: Session, start: date, end: date) -> Subquery:
    """One row per application of the period with how far it went and when each step happened."""
    a = origination_rep.applications()
    d, o, h = risk_rep.decisions(), payments_rep.down_payments(), devices_rep.handovers()
    share, sale = promotions_rep.attributions(), promotions_rep.campaign_sales()
    approved = or_(a.c.outcome == "approve", d.c.review_status == "approved")
    decided = or_(a.c.outcome.in_(("approve", "decline")), d.c.review_status.in_(("approved", "declined")))
    signed = a.c.signed_at.is_not(None)
    paid = and_(signed, or_(a.c.down_payment_paid.is_(True), a.c.down_payment_fen == 0))
    paid_at = case((paid, func.coalesce(o.c.paid_at, a.c.signed_at)))
    handed = and_(paid, h.c.handed_over_at.is_not(None))
    # The phone leaves the store once paid for: a lock record made before the payment counts from it.
    handed_at = case((handed, case((h.c.handed_over_at > paid_at, h.c.handed_over_at), else_=paid_at)))
    decided_at = case((decided, func.coalesce(d.c.decided_at, a.c.created_at)))
    one = literal(1)
    return (
        select(
            a.c.application_id, a.c.channel, a.c.store_id, a.c.clerk_user_id, a.c.price_fen, a.c.term,
            a.c.product_code, a.c.status, a.c.reason, a.c.reason_zh, a.c.reason_en, a.c.apr, a.c.funder_rate,
            a.c.financed_fen, a.c.subsidy_fen, a.c.loan_id, share.c.token, share.c.link_clerk_user_id,
            case((sale.c.spend_status != "released", sale.c.campaign_code)).label("campaign_code"),
            func.coalesce(o.c.expired_orders, 0).label("expired_orders"),
            case((decided, one), else_=0).label("decided"), case((approved, one), else_=0).label("approved"),
            case((signed, one), else_=0).label("signed"), case((paid, one), else_=0).label("paid"),
            case((handed, one), else_=0).label("handed_over"),
            _seconds(session, first_view(session, a), a.c.created_at).label("s_applied"),
            _seconds(session, a.c.created_at, decided_at).label("s_decided"),
            _seconds(session, decided_at, a.c.signed_at).label("s_signed"),
            _seconds(session, a.c.signed_at, paid_at).label("s_paid"),
            _seconds(session, paid_at, handed_at).label("s_handed_over"),
        )
        .outerjoin(d, d.c.decision_id == a.c.decision_id)
        .outerjoin(o, o.c.application_id == a.c.application_id)
        .outerjoin(h, h.c.loan_id == a.c.loan_id)
        .outerjoin(share, share.c.application_id == a.c.application_id)
        .outerjoin(sale, sale.c.application_id == a.c.application_id)
        .where(a.c.business_date >= start, a.c.business_date <= end)
        .subquery("funnel_base")
    )


def first_view(session: Session, a: Subquery) -> Any:
    """When the application's shopper was first shown the plan menu: at the till, the first menu of that
    phone model the clerk showed that day before the application; online, the shopper's own first view
    (as a visitor too, once signed in) in the VIEW_WINDOW_DAYS before applying."""
    v = PlanView
    till = and_(a.c.channel == "store", v.channel == "store", v.clerk_user_id == a.c.clerk_user_id,
                v.sku_code == a.c.sku_code, v.business_date == a.c.business_date)
    online = and_(a.c.channel == "online", v.shopper_user_id == a.c.shopper_user_id,
                  v.business_date >= _days_before(session, a.c.business_date, VIEW_WINDOW_DAYS),
                  v.business_date <= a.c.business_date)
    return (select(func.min(v.viewed_at)).where(v.viewed_at <= a.c.created_at, or_(till, online))
            .correlate(a).scalar_subquery())


def _days_before(session: Session, day: Any, days: int) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(day - days, Date)
    return func.date(day, f"-{days} days")


def _key(dimension: str, base: Subquery) -> ColumnElement[Any]:
    if dimension == "all":
        return literal("all")
    if dimension == "store":
        return base.c.store_id
    if dimension == "clerk":
        return func.coalesce(base.c.clerk_user_id, 0)
    if dimension == "channel":
        return base.c.channel
    if dimension == "price_band":
        return price_band(base.c.price_fen)
    if dimension == "term":
        return base.c.term
    if dimension == "share_link":
        return func.coalesce(base.c.token, "")
    if dimension == "referrer":
        return func.coalesce(base.c.link_clerk_user_id, 0)
    if dimension == "campaign":
        return func.coalesce(base.c.campaign_code, "")
    return base.c.product_code


def _median(session: Session, key: ColumnElement[Any], seconds: ColumnElement[Any], base: Subquery
            ) -> dict[str, int]:
    # A step recorded before the step it follows (clocks that disagree, e.g. a payment time given by the
    # channel) says nothing about how long the shopper took: left out rather than counted as negative.
    durations = select(key.label("k"), seconds.label("s")).where(seconds >= 0).subquery("durations")
    ranked = select(
        durations.c.k, durations.c.s,
        func.row_number().over(partition_by=durations.c.k, order_by=durations.c.s).label("rn"),
        func.count().over(partition_by=durations.c.k).label("n"),
    ).subquery("ranked")
    rows = session.execute(
        select(ranked.c.k, func.avg(ranked.c.s))
        .where(or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2))
        .group_by(ranked.c.k)
    ).all()
    return {str(k): int(Decimal(str(v)).quantize(Decimal(1))) for k, v in rows if v is not None}


def _labels(session: Session, dimension: str, keys: list[str]) -> dict[str, tuple[str, str]]:
    if dimension == "all":
        return {"all": DIMENSIONS["all"]}
    if dimension == "channel":
        return {k: CHANNELS.get(k, (k, k)) for k in keys}
    if dimension == "price_band":
        bands = {str(i): (zh, en) for i, (_, zh, en) in enumerate(PRICE_BANDS)}
        return {"-1": ("未选手机", "Phone not chosen yet"), **bands}
    if dimension == "term":
        return {k: (f"{k} 期", f"{k} months") for k in keys}
    if dimension in ("share_link", "referrer", "campaign"):
        return _promotion_labels(session, dimension, keys)
    if dimension == "store":
        s = catalog_rep.stores()
        ids = [int(k) for k in keys]
        named = {str(i): (n, n) for i, n in session.execute(select(s.c.store_id, s.c.name)
                                                             .where(s.c.store_id.in_(ids))).all()}
        return {"0": ("未指明门店（线上或收银台）", "No store (online or till)"), **named}
    if dimension == "clerk":
        u = identity_rep.staff_names()
        ids = [int(k) for k in keys]
        found = {str(i): (n, n) for i, n in session.execute(select(u.c.user_id, u.c.display_name)
                                                             .where(u.c.user_id.in_(ids))).all()}
        return {"0": ("顾客线上自助", "Shopper online"), **found}
    p = pricing_rep.products()
    return {c: (zh, en) for c, zh, en in session.execute(select(p.c.code, p.c.name_zh, p.c.name_en)
                                                         .where(p.c.code.in_(keys))).all()}


def _staff(session: Session, ids: list[int]) -> dict[int, str]:
    u = identity_rep.staff_names()
    return {int(i): str(n) for i, n in session.execute(select(u.c.user_id, u.c.display_name)
                                                       .where(u.c.user_id.in_(ids))).all()}


def _promotion_labels(session: Session, dimension: str, keys: list[str]) -> dict[str, tuple[str, str]]:
    if dimension == "campaign":
        c = promotions_rep.campaign_sales()
        named = {code: (zh, en) for code, zh, en in session.execute(
            select(c.c.campaign_code, c.c.campaign_zh, c.c.campaign_en).where(c.c.campaign_code.in_(keys))
            .distinct()).all()}
        return {"": ("未参加活动", "No campaign"), **named}
    if dimension == "referrer":
        names = _staff(session, [int(k) for k in keys if k.isdigit()])
        return {"0": NO_LINK, **{str(i): (n, n) for i, n in names.items()}}
    link = promotions_rep.share_links()
    rows = session.execute(select(link.c.token, link.c.clerk_user_id).where(link.c.token.in_(keys))).all()
    names = _staff(session, [int(c) for _, c in rows if c is not None])
    out = {"": NO_LINK}
    for token, clerk in rows:
        who = names.get(clerk, "") if clerk is not None else ""
        out[token] = (f"{token}（{who}）" if who else token, f"{token} ({who})" if who else token)
    return out


def funnel(session: Session, *, start: date, end: date, dimension: str = "all") -> Funnel:
    """Applications submitted in [start, end] (business dates) and plan views of the same days."""
    if dimension not in DIMENSIONS:
        raise InvalidInput.saying(f"未知的分组：{dimension[:20]}", f"unknown grouping: {dimension[:20]}")
    if end < start:
        raise InvalidInput.saying("结束日期早于开始日期", "the end is before the start")
    base = application_steps(session, start, end)
    key = _key(dimension, base)
    steps = ("decided", "signed", "paid", "handed_over")
    counted = session.execute(
        select(key, func.count(), func.sum(base.c.approved), *(func.sum(base.c[s]) for s in steps))
        .group_by(key)
    ).all()
    views = _views(session, dimension, start, end)
    medians = {s: _median(session, key, base.c[f"s_{s}"], base) for s in ("applied", *steps)}
    rows_by_key: dict[str, tuple[int, int, list[int]]] = {
        str(r[0]): (int(r[1]), int(r[2] or 0), [int(v or 0) for v in r[3:]]) for r in counted}
    keys = sorted(set(rows_by_key) | set(views or {}), key=_order(dimension))
    labels = _labels(session, dimension, keys)
    rows = []
    for k in keys:
        applied, approved, later = rows_by_key.get(k, (0, 0, [0, 0, 0, 0]))
        counts: dict[str, int | None] = {"viewed": None if views is None else views.get(k, 0), "applied": applied}
        counts.update(dict(zip(steps, later, strict=True)))
        zh, en = labels.get(k, (k, k))
        rows.append(FunnelRow(k, zh, en, counts, {s: m.get(k) for s, m in medians.items()}, approved))
    return Funnel(dimension, start, end, rows, _drop_offs(session, base))


def _order(dimension: str) -> Any:
    if dimension in ("store", "clerk", "term", "price_band", "referrer"):
        return lambda k: (0, int(k)) if k.lstrip("-").isdigit() else (1, 0)
    return lambda k: (0, k)


def _views(session: Session, dimension: str, start: date, end: date) -> dict[str, int] | None:
    """Plan views per group; None for the groupings a view does not have (term, product, campaign, share
    link: a link's openings are counted on the link, not per day)."""
    if dimension in ("term", "product", "campaign", "share_link", "referrer"):
        return None
    v = PlanView
    keys: dict[str, ColumnElement[Any]] = {
        "all": literal("all"), "store": func.coalesce(v.store_id, 0), "clerk": func.coalesce(v.clerk_user_id, 0),
        "channel": v.channel.expression, "price_band": price_band(v.price_fen),
    }
    key = keys[dimension]
    rows = session.execute(select(key, func.count()).where(v.business_date >= start, v.business_date <= end)
                           .group_by(key)).all()
    return {str(k): int(n) for k, n in rows}


def _drop_offs(session: Session, base: Subquery) -> list[DropOff]:
    """Why applications of the period stopped: decline reasons (the decision's first reason), the states
    an application was left in, down payment orders that expired."""
    b = base.c
    kind = case(
        (b.status == "declined", "declined"), (b.status == "referred", "in_review"),
        (b.status == "unfunded", "unfunded"), (b.status == "cancelled", "cancelled"),
        (b.status == "approved", "approved_unsigned"),
        (and_(b.signed == 1, b.paid == 0, b.expired_orders > 0), "payment_expired"),
        (and_(b.signed == 1, b.paid == 0), "payment_pending"),
        (and_(b.paid == 1, b.handed_over == 0), "not_handed_over"),
        else_=None,
    )
    code = case((b.status == "declined", func.coalesce(b.reason, "")), else_="")
    rows = session.execute(
        select(kind, code, func.max(b.reason_zh), func.max(b.reason_en), func.count())
        .where(kind.is_not(None)).group_by(kind, code)
    ).all()
    out = []
    for k, c, zh, en, n in rows:
        base_zh, base_en = DROP_OFF[k]
        if k == "declined" and c:
            base_zh, base_en = f"{base_zh}：{zh or c}", f"{base_en}: {en or c}"
        out.append(DropOff(k, c, base_zh, base_en, int(n)))
    order = list(DROP_OFF)
    return sorted(out, key=lambda d: (order.index(d.kind), -d.count, d.code))


def record_plan_view(session: Session, *, channel: str, price_fen: int, sku_code: str = "",
                     merchant_id: int | None = None, store_id: int | None = None,
                     clerk_user_id: int | None = None, on: date | None = None, shopper_user_id: int | None = None,
                     visitor: str = "", at: datetime | None = None) -> None:
    """One row for a plan menu shown (the funnel's first step): where, by which clerk, which phone, and to
    which signed-in shopper (or anonymous visitor, by a hash of their cookie) — to time the view to their
    application. No personal data of the shopper."""
    session.add(PlanView(business_date=on or business_date(session), channel=channel, merchant_id=merchant_id,
                         store_id=store_id, clerk_user_id=clerk_user_id, sku_code=sku_code[:60], price_fen=price_fen,
                         shopper_user_id=shopper_user_id, visitor=_visitor_hash(visitor) if visitor else None,
                         viewed_at=at or utcnow()))


def _visitor_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def link_visitor_views(session: Session, *, visitor: str, user_id: int) -> int:
    """A visitor who signs in to apply: the plan menus they were shown as a visitor are now theirs."""
    result: Any = session.execute(
        update(PlanView).where(PlanView.visitor == _visitor_hash(visitor), PlanView.shopper_user_id.is_(None))
        .values(shopper_user_id=user_id).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)
