"""Channel pilots: a candidate payment channel is shown first at the cashier to the pilot's share of shoppers
(within ±3 points over 2,000 simulated cashier sessions, each shopper's arm stable), never while the candidate
has no contract in force; the result compares payment success rate (Wilson) and callback delay (bootstrap)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.partners import pilots, service
from fenqi.partners.stats import wilson
from fenqi.payments.routing import Routing, cashier_routing, channel_pilot, with_pilot
from tests.origination.world import TODAY, build_world
from tests.partners.known_data import AT, order, register
from tests.partners.test_scorecard import signed_in
from tests.web_console.conftest import csrf_of

CHANNELS = ("alipay", "wechatpay")


def setup(session: Session) -> None:
    build_world(session)
    register(session, "P-ALI", "支付宝", "payment_platform", channel="alipay")
    register(session, "P-WX", "微信支付", "payment_platform", channel="wechatpay")


def test_two_thousand_cashier_sessions_route_the_share_within_three_points(session: Session) -> None:
    setup(session)
    pilots.create_pilot(session, name="微信支付首位试点", candidate="P-WX", incumbent="P-ALI", share=Decimal("0.10"),
                        starts_on=TODAY, ends_on=TODAY + timedelta(30), metrics=list(pilots.CHANNEL_METRICS),
                        user_id=None)
    assert channel_pilot(session) == ("wechatpay", Decimal("0.10"))
    # a funder pilot may run beside it
    assert pilots.running(session, "funder") is None and pilots.running(session, "channel") is not None
    first = {i: with_pilot(Routing(CHANNELS), ("wechatpay", Decimal("0.10")), f"user:{i}").channels[0]
             for i in range(1, 2001)}
    share = sum(c == "wechatpay" for c in first.values()) / 2000
    assert abs(share - 0.10) <= 0.03, share
    # the cashier itself, over the database, agrees shopper by shopper (and a shopper's arm never changes)
    for i in range(1, 41):
        routed = cashier_routing(session, f"user:{i}", CHANNELS)
        assert routed.channels[0] == first[i] and set(routed.channels) == set(CHANNELS)
        assert routed.pilot_arm == ("candidate" if first[i] == "wechatpay" else "incumbent")
    # a candidate without a contract in force is never routed to
    service.set_status(session, "P-WX", "ended")
    assert channel_pilot(session) is None
    assert cashier_routing(session, "user:1", CHANNELS).channels == CHANNELS


def test_the_comparison_from_known_data_on_the_page(client: TestClient, session: Session) -> None:
    setup(session)
    admin = signed_in(client, session, "admin")
    page = admin.get("/ops/partners/pilots").text
    assert "微信支付（支付渠道）" in page and "回调延迟中位数（秒）" in page
    made = admin.post("/ops/partners/pilots", follow_redirects=False, data={
        "csrf_token": csrf_of(page), "name": "微信支付首位试点", "candidate": "P-WX", "incumbent": "P-ALI",
        "share_pct": "10", "starts_on": (TODAY - timedelta(10)).isoformat(),
        "ends_on": (TODAY + timedelta(20)).isoformat(),
        "metrics": list(pilots.METRICS) + list(pilots.CHANNEL_METRICS)})  # the form sends every ticked box
    assert made.status_code == 303
    pilot = pilots.list_pilots(session)[0]
    assert pilot.metrics == ["payment_success_rate", "callback_delay"]
    # WeChat Pay: 18 of 20 paid, callbacks 2 s after payment; Alipay: 10 of 20 paid, callbacks 30 s after
    for i in range(20):
        order(session, "wechatpay", "paid" if i < 18 else "failed", created=AT, callback_after_s=2)
        order(session, "alipay", "paid" if i < 10 else "closed", created=AT, callback_after_s=30)
    order(session, "wechatpay", "paid", created=AT - timedelta(days=30))  # before the pilot
    order(session, "wechatpay", "pending", created=AT)  # unfinished: not counted
    r = pilots.result(session, pilot)
    assert (r.routed, r.to_candidate, r.incumbent_name) == (40, 20, "支付宝")
    rate, delay = r.comparisons
    assert rate.candidate == wilson(18, 20) and rate.incumbent == wilson(10, 20)
    assert rate.significant and rate.better
    assert (delay.candidate.estimate, delay.incumbent.estimate) == (2.0, 30.0)
    assert (delay.candidate.n, delay.incumbent.n) == (18, 10)
    assert delay.significant and delay.better  # lower is better
    shown = admin.get(made.headers["location"]).text
    for text in ("支付成功率", "90.0%", "50.0%", "回调延迟中位数（秒）", "候选方显著更好", "共 40 笔，候选方 20 笔"):
        assert text in shown, text
    assert "Callback delay" in admin.get(made.headers["location"] + "?lang=en").text
    listed = admin.get("/ops/partners/pilots?lang=zh").text
    assert "微信支付首位试点" in listed
