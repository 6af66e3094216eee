"""Measured downtime and complaints per payment channel, from known data: outage windows found in our own
cashier orders (runs of unpaid orders of at least 3 orders and 10 minutes), and payment and fee complaints
counted against the channel the loan's money was last paid through, each with its sample size and window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from fenqi.aftersales.models import Complaint
from fenqi.partners import scorecard
from fenqi.partners.channel_measures import complaints_by_channel, downtime_windows
from tests.origination.world import TODAY, build_world
from tests.partners.known_data import AT, order, register

T = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_downtime_windows_by_hand() -> None:
    m = [T + timedelta(minutes=i) for i in range(60)]
    outcomes = [(m[0], True), (m[1], False), (m[5], False), (m[12], False), (m[20], True),  # 1–20: 19 min
                (m[30], False), (m[32], False), (m[34], True),  # two orders, 4 minutes: not an outage
                (m[40], False), (m[41], False), (m[52], False)]  # none paid after: 40–52, 12 minutes
    assert downtime_windows(outcomes) == [(m[1], m[20]), (m[40], m[52])]
    assert downtime_windows(outcomes, min_minutes=15) == [(m[1], m[20])]
    assert downtime_windows([]) == []


def test_complaints_go_to_the_channel_last_paid_through() -> None:
    history = {1: [(T, "alipay"), (T + timedelta(days=2), "wechatpay")], 2: [(T + timedelta(days=5), "wechatpay")]}
    filed = [(1, T + timedelta(days=1)), (1, T + timedelta(days=3)), (2, T), (3, T)]  # loan 3 never paid
    assert complaints_by_channel(filed, history) == {"alipay": 1, "wechatpay": 2}


def _complaint(session: Session, loan_id: int | None, category: str) -> None:
    session.add(Complaint(shopper_user_id=1, loan_id=loan_id, category=category, text="扣款有误", created_at=AT,
                          respond_by=AT + timedelta(1), resolve_by=AT + timedelta(7), status="open"))


def test_the_scorecard_measures_both_from_known_data(session: Session) -> None:
    build_world(session)
    register(session, "P-ALI", "支付宝", "payment_platform", channel="alipay")
    register(session, "P-WX", "微信支付", "payment_platform", channel="wechatpay")
    # Alipay: paid, then 4 failed or timed out over 15 minutes until the next paid: 15 minutes down
    start = AT - timedelta(hours=3)
    for i, (minute, status) in enumerate(((0, "paid"), (1, "failed"), (4, "closed"), (9, "failed"),
                                          (13, "closed"), (16, "paid"), (17, "paid"))):
        row = order(session, "alipay", status, created=start + timedelta(minutes=minute))
        row.loan_id = 7001 if i == 0 else None
    order(session, "alipay", "failed", created=start + timedelta(minutes=30), agreement=True)  # auto-debit: not
    # WeChat Pay: 2 paid, for loan 7002; its complaints: one payment, one fees; a device complaint is no one's
    for minute in (0, 5):
        order(session, "wechatpay", "paid", created=start + timedelta(minutes=minute)).loan_id = 7002
    session.flush()
    _complaint(session, 7001, "payment")
    _complaint(session, 7002, "payment")
    _complaint(session, 7002, "fees")
    _complaint(session, 7002, "device")
    _complaint(session, None, "payment")
    session.flush()

    card = scorecard.scorecard(session, end=TODAY)
    rows = {r.code: r.values for r in card.groups["payment_platform"]}
    ali, wx = rows["P-ALI"], rows["P-WX"]
    assert (ali["downtime_measured_minutes"].value, ali["downtime_measured_minutes"].n) == (Decimal("15.0"), 7)
    assert ali["downtime_measured_minutes"].basis == "2026-08-31 — 2026-11-28"
    assert (wx["downtime_measured_minutes"].value, wx["downtime_measured_minutes"].n) == (Decimal("0.0"), 2)
    # 1 complaint in 3 payments; 2 in 2
    assert (ali["payment_complaints_per_1000"].value, ali["payment_complaints_per_1000"].n) == (Decimal("333.3"), 3)
    assert (wx["payment_complaints_per_1000"].value, wx["payment_complaints_per_1000"].n) == (Decimal("1000.0"), 2)
    # lower is better on both: WeChat Pay scores 100 on downtime, Alipay 100 on complaints
    assert (card.groups["payment_platform"][0].scores.get("downtime_measured_minutes") is not None)
    score = {r.code: r.scores for r in card.groups["payment_platform"]}
    assert score["P-WX"]["downtime_measured_minutes"] == 100 and score["P-ALI"]["downtime_measured_minutes"] == 0
    assert score["P-ALI"]["payment_complaints_per_1000"] == 100 and score["P-WX"]["payment_complaints_per_1000"] == 0
