"""The funnel of the known March 2026 applications (tests/analytics/book.py), every figure by hand."""

from __future__ import annotations

from datetime import date
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
    assert row.median_seconds == {"decided": 60, "signed": 1200, "paid": 360, "handed_over": 300}
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
        "price_fen"}


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
    assert row.median_seconds == {"decided": 300, "signed": 3300, "paid": None, "handed_over": None}
