"""The funnel of the known March 2026 applications (tests/analytics/book.py), every figure by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.analytics import funnel as fn
from fenqi.analytics.models import PlanView
from fenqi.kit.errors import InvalidInput
from tests.analytics.book import build

D = Decimal
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
STEPS = ("viewed", "applied", "decided", "signed", "paid", "handed_over")


def counts(row: fn.FunnelRow) -> tuple[int | None, ...]:
    return tuple(row.counts[s] for s in STEPS)


def test_funnel_counts_conversion_times_and_drop_offs(session: Session) -> None:
    book = build(session)
    result = fn.funnel(session, start=MARCH[0], end=MARCH[1])
    (row,) = result.rows
    assert counts(row) == (8, 6, 5, 3, 2, 2) and row.approved == 4
    assert row.conversion == {"viewed": None, "applied": D("0.75"), "decided": D("0.8333"), "signed": D("0.6"),
                              "paid": D("0.6667"), "handed_over": D("1")}
    assert row.overall == D("0.3333")
    # decided: 30 s, 60 s, 60 s, 180 s, 2 h → 60 s; signed: 600, 1200, 1800 → 1200; paid: 120, 600 → 360;
    # handed over: A1's lock record predates its payment (0 s), A2's came 10 minutes after → 300.
    # No plan view of the book is its application's (all shown on 10 March): plan view → applied is unknown.
    assert row.median_seconds == {"applied": None, "decided": 60, "signed": 1200, "paid": 360, "handed_over": 300}
    assert [(d.kind, d.code, d.zh, d.count) for d in result.drop_offs] == [
        ("declined", "R_TEST", "审批拒绝：测试拒绝", 1), ("in_review", "", "人工审核中", 1),
        ("approved_unsigned", "", "批准后未签约", 1), ("payment_expired", "", "首付订单过期", 1)]

    by = {r.key: r for r in fn.funnel(session, start=MARCH[0], end=MARCH[1], dimension="channel").rows}
    assert counts(by["store"]) == (5, 4, 4, 3, 2, 2) and by["store"].zh == "门店收银台"
    assert counts(by["online"]) == (3, 2, 1, 0, 0, 0) and by["online"].median_seconds["decided"] == 60

    by = {r.key: r for r in fn.funnel(session, start=MARCH[0], end=MARCH[1], dimension="clerk").rows}
    assert counts(by[str(book.c1)]) == (4, 3, 3, 2, 2, 2) and by[str(book.c1)].zh == "店员甲"
    assert counts(by[str(book.c2)]) == (1, 1, 1, 1, 0, 0) and by[str(book.c2)].median_seconds["decided"] == 7200
    assert counts(by["0"]) == (3, 2, 1, 0, 0, 0) and by["0"].zh == "顾客线上自助"

    by = {r.key: r for r in fn.funnel(session, start=MARCH[0], end=MARCH[1], dimension="store").rows}
    assert counts(by[str(book.s1)]) == (4, 4, 3, 2, 2, 2) and by[str(book.s1)].zh == "分析一店"
    assert counts(by[str(book.s2)]) == (1, 2, 2, 1, 0, 0)
    assert counts(by["0"]) == (3, 0, 0, 0, 0, 0) and by["0"].zh == "未指明门店（线上或收银台）"  # online views

    by = {r.key: r for r in fn.funnel(session, start=MARCH[0], end=MARCH[1], dimension="price_band").rows}
    assert {k: counts(r)[:2] for k, r in by.items()} == {"1": (1, 1), "2": (2, 1), "3": (4, 3), "5": (1, 1)}
    assert by["3"].zh == "4000-5999元" and counts(by["3"]) == (4, 3, 3, 3, 2, 2)

    by = {r.key: r for r in fn.funnel(session, start=MARCH[0], end=MARCH[1], dimension="product").rows}
    assert counts(by["EI-12"]) == (None, 4, 3, 2, 2, 2) and counts(by["IF-MERCHANT"]) == (None, 2, 2, 1, 0, 0)
    assert by["EI-12"].conversion["applied"] is None
    by = {r.key: r for r in fn.funnel(session, start=MARCH[0], end=MARCH[1], dimension="term").rows}
    assert counts(by["12"]) == (None, 3, 2, 2, 2, 2) and counts(by["6"]) == (None, 3, 3, 1, 0, 0)


def test_plan_view_is_one_row_without_personal_data(session: Session) -> None:
    build(session, suffix="V")
    before = session.scalar(select(func.count()).select_from(PlanView))
    fn.record_plan_view(session, channel="online", price_fen=123_400, sku_code="X-1")
    session.flush()
    assert session.scalar(select(func.count()).select_from(PlanView)) == (before or 0) + 1
    assert set(PlanView.__table__.columns.keys()) == {
        "id", "viewed_at", "business_date", "channel", "merchant_id", "store_id", "clerk_user_id", "sku_code",
        "price_fen", "shopper_user_id", "visitor"}


def test_time_from_first_plan_view_to_application(session: Session) -> None:
    from fenqi.analytics.tables import funnel_table
    from fenqi.origination.models import Application
    from tests.analytics.book import at

    book = build(session, suffix="T")
    till = {"channel": "store", "sku_code": "AN-SKU", "price_fen": 599_900}

    def view(moment: datetime, **where: object) -> None:
        session.add(PlanView(business_date=moment.date(), viewed_at=moment, **where))

    # A1 (till, clerk 甲, 2 March 02:00): the clerk showed the phone's menu at 01:50 and 01:55 → 600 s. Not
    # counted: the same menu after the application, another clerk's, another phone's, another day's.
    view(at(2, 1, 50), clerk_user_id=book.c1, **till)
    view(at(2, 1, 55), clerk_user_id=book.c1, **till)
    view(at(2, 2, 5), clerk_user_id=book.c1, **till)
    view(at(2, 1, 0), clerk_user_id=book.c2, **till)
    view(at(2, 1, 0), clerk_user_id=book.c1, **{**till, "sku_code": "OTHER"})
    view(datetime(2026, 3, 1, 23, tzinfo=UTC), clerk_user_id=book.c1, **till)
    # A2 (till, clerk 甲, 3 March 03:00): shown at 02:58 → 120 s.
    view(at(3, 2, 58), clerk_user_id=book.c1, **till)
    # A5 (online, 6 March 06:00): the shopper looked on 1 March 06:00 → 5 days; a look 40 days before is too old.
    a5, a6 = (session.get(Application, book.apps[n]) for n in (5, 6))
    assert a5 is not None and a6 is not None
    a5.shopper_user_id, a6.shopper_user_id = 990_001, 990_002
    view(at(1, 6), channel="online", shopper_user_id=990_001, price_fen=899_900)
    view(datetime(2026, 1, 25, 6, tzinfo=UTC), channel="online", shopper_user_id=990_001, price_fen=899_900)
    # A6 (online, 7 March 07:00): looked as a visitor at 06:30, signed in to apply → 1,800 s.
    fn.record_plan_view(session, channel="online", price_fen=399_900, visitor="visitor-token-0123456789",
                        on=date(2026, 3, 7), at=at(7, 6, 30))
    session.flush()
    assert fn.link_visitor_views(session, visitor="visitor-token-0123456789", user_id=990_002) == 1
    session.flush()

    (row,) = fn.funnel(session, start=MARCH[0], end=MARCH[1]).rows
    assert row.median_seconds["applied"] == (600 + 1800) // 2  # of 120, 600, 1,800 and 432,000
    by = {r.key: r for r in fn.funnel(session, start=MARCH[0], end=MARCH[1], dimension="channel").rows}
    assert by["store"].median_seconds["applied"] == 360 and by["online"].median_seconds["applied"] == 216_900
    # The CSV (and the page, which shows the same table) carries it.
    table = funnel_table(fn.funnel(session, start=MARCH[0], end=MARCH[1]), "zh")
    assert table.rows[0][table.columns.index("提交申请用时中位数")] == "20分0秒"


def test_bad_grouping_and_period_are_clear_errors(session: Session) -> None:
    with pytest.raises(InvalidInput):
        fn.funnel(session, start=MARCH[0], end=MARCH[1], dimension="nonsense")
    with pytest.raises(InvalidInput):
        fn.funnel(session, start=MARCH[1], end=MARCH[0])


def test_a_step_recorded_before_the_one_it_follows_is_left_out_of_the_median(session: Session) -> None:
    from datetime import UTC, datetime

    from tests.analytics.book import _app, _decision, _order

    book = build(session, suffix="N")
    april = datetime(2026, 4, 2, 2, tzinfo=UTC)
    app = _app(session, book, 8, store=book.s1, clerk=book.c1, price=599_900, product="EI-12", term=12,
               created=april, status="signed", outcome="approve", signed_at=datetime(2026, 4, 2, 3, tzinfo=UTC),
               down_payment_paid=True)
    _decision(session, app, "approve", datetime(2026, 4, 2, 2, 5, tzinfo=UTC))
    _order(session, app, "paid", datetime(2026, 4, 1, 10, tzinfo=UTC))  # the channel's clock: a day before signing
    session.flush()
    (row,) = fn.funnel(session, start=date(2026, 4, 1), end=date(2026, 4, 30)).rows
    assert counts(row)[1:5] == (1, 1, 1, 1)
    assert row.median_seconds == {"applied": None, "decided": 300, "signed": 3300, "paid": None, "handed_over": None}
