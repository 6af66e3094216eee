"""Measured routing at the cashier (fenqi/payments/routing.py): what docs/payments.md promises — channels
ordered by their window's success rate, a failing channel left out (never all of them), too few orders
meaning no measured rate, an exploration share stable per shopper — and the window computed in one query
from real payment orders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from fenqi.payments.models import PaymentAgreement, PaymentOrder
from fenqi.payments.routing import Rule, Window, is_explorer, route, shopper_bucket, windows

CHANNELS = ("alipay", "wechatpay")
window_st = st.integers(0, 200).flatmap(lambda n: st.builds(Window, st.just(n), st.integers(0, n)))
windows_st = st.fixed_dictionaries({}, optional={c: window_st for c in CHANNELS})
rule_st = st.builds(Rule, window_minutes=st.integers(1, 600), min_orders=st.integers(1, 50),
                    threshold=st.decimals(0, 1, places=2), exploration=st.decimals(0, 1, places=2))
shopper_st = st.text(min_size=1, max_size=12)


@given(windows_st, rule_st, shopper_st)
def test_every_channel_offered_once_or_excluded_for_failing(ws: dict[str, Window], rule: Rule, shopper: str) -> None:
    r = route(ws, rule, shopper, CHANNELS)
    assert sorted(r.channels + r.excluded) == sorted(CHANNELS)
    assert r.channels, "the cashier always has a channel"
    for code in r.excluded:
        assert ws[code].orders >= rule.min_orders and ws[code].rate() < rule.threshold
    assert set(r.rates) == {c for c in CHANNELS if c in ws and ws[c].orders >= rule.min_orders}


@given(windows_st, st.builds(Rule, window_minutes=st.integers(1, 600), min_orders=st.integers(1, 50),
                             threshold=st.decimals(0, 1, places=2), exploration=st.just(Decimal(0))), shopper_st)
def test_measured_channels_ordered_by_success_rate(ws: dict[str, Window], rule: Rule, shopper: str) -> None:
    r = route(ws, rule, shopper, CHANNELS)
    assert not r.explored
    measured = [c for c in r.channels if c in r.rates]
    assert [r.rates[c] for c in measured] == sorted((r.rates[c] for c in measured), reverse=True)
    assert r.channels[:len(measured)] == tuple(measured), "unmeasured channels come after the measured ones"
    passing = [c for c in CHANNELS if c in r.rates and r.rates[c] >= rule.threshold]
    if passing:
        assert not set(passing) & set(r.excluded)


@given(windows_st, rule_st, shopper_st)
def test_exploration_is_stable_per_shopper_and_shows_every_channel(ws: dict[str, Window], rule: Rule,
                                                                    shopper: str) -> None:
    first, again = route(ws, rule, shopper, CHANNELS), route(ws, rule, shopper, CHANNELS)
    assert first == again
    assert first.explored == (shopper_bucket(shopper) < rule.exploration)
    if first.explored:
        assert sorted(first.channels) == sorted(CHANNELS) and not first.excluded


@settings(max_examples=20)
@given(st.decimals(Decimal("0.01"), Decimal("0.5"), places=2))
def test_exploration_share_over_many_shoppers(share: Decimal) -> None:
    explorers = sum(is_explorer(f"user:{i}", share) for i in range(4_000))
    assert abs(Decimal(explorers) / 4_000 - share) < Decimal("0.03")


def test_off_by_default_shows_the_usual_order(session: Session) -> None:
    from fenqi.payments.routing import cashier_routing, settings_rule

    assert settings_rule() is None
    assert cashier_routing(session, "user:1").channels == CHANNELS


def _order(session: Session, n: int, channel: str, status: str, created: datetime,
           agreement_id: int | None = None) -> None:
    paid = status in ("paid", "refunded")
    session.add(PaymentOrder(agreement_id=agreement_id,
        out_trade_no=f"RT{created:%H%M}{channel[:2]}{n:05d}", channel=channel, purpose="installment",
        amount_fen=10_000, subject="test", status=status, business_date=date(2031, 3, 1),
        expires_at=created + timedelta(minutes=30), created_at=created, paid_at=created if paid else None,
        paid_amount_fen=10_000 if paid else None, refunded_fen=10_000 if status == "refunded" else 0,
    ))


def test_window_computed_from_payment_orders(session: Session) -> None:
    now = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
    inside, before = now - timedelta(minutes=30), now - timedelta(minutes=61)
    n = 0
    for channel, status, count, at in (
        ("alipay", "paid", 18, inside), ("alipay", "refunded", 1, inside), ("alipay", "closed", 1, inside),
        ("alipay", "pending", 5, inside),            # no outcome yet: not counted
        ("alipay", "failed", 30, before),            # older than the window
        ("wechatpay", "paid", 6, inside), ("wechatpay", "failed", 14, inside),
        ("wechatpay", "paid", 3, now + timedelta(minutes=5)),  # after "now"
    ):
        for _ in range(count):
            n += 1
            _order(session, n, channel, status, at)
    session.add(agreement := PaymentAgreement(channel="wechatpay", external_no="RTAGREEMENT1", loan_id=1,
                                              status="active"))
    session.flush()
    for _ in range(10):  # auto-debits refused for the shopper's balance: not the channel's failures
        n += 1
        _order(session, n, "wechatpay", "failed", inside, agreement_id=agreement.id)
    session.flush()

    ws = windows(session, window_minutes=60, now=now)
    assert ws == {"alipay": Window(20, 19), "wechatpay": Window(20, 6)}
    r = route(ws, Rule(window_minutes=60, min_orders=20, threshold=Decimal("0.80"), exploration=Decimal(0)),
              "user:7", ("wechatpay", "alipay"))
    assert (r.channels, r.excluded, r.rates["alipay"]) == (("alipay",), ("wechatpay",), Decimal("0.95"))
    assert windows(session, window_minutes=120, now=now)["alipay"] == Window(50, 19)
