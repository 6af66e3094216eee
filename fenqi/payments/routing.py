"""Measured routing at the cashier: the payment channels in order of their recent success rate.

Each channel's window is its payment orders created in the last `window_minutes` that have an outcome
(paid — including paid then refunded — closed or failed; orders still pending are not counted, nor
auto-debits, whose failures are mostly the shopper's balance, not the channel). Its
success rate is paid / counted. A channel with fewer than `min_orders` counted orders has no measured
rate: it keeps its place in the default order after the measured ones that pass, and is never excluded.
A measured channel whose rate is below `threshold` is excluded from the cashier — unless excluding it
would leave nothing to pay with, then every channel stays.

An `exploration` share of shoppers (chosen by a stable hash of the shopper, so a shopper sees the same
cashier on every visit) is shown every channel with the least successful first: the weaker channels keep
receiving some orders, so their window goes on being measured and a recovered channel comes back.

Off by default (FENQI_CASHIER_ROUTING): the cashier then shows the channels in their usual order.

A channel pilot (registered by the partners domain, `register_channel_pilot`) applies on top, routing on
or off: a shopper whose pilot bucket (another stable hash) falls below the pilot's share sees the candidate
channel first; every other shopper sees it second, after the best other channel. A channel left out by
measured routing is never put back by a pilot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from fenqi.kit.db import utcnow
from fenqi.payments.models import PaymentOrder
from fenqi.payments.settings import get_payment_settings

DEFAULT_ORDER: tuple[str, ...] = ("alipay", "wechatpay")
_OUTCOMES = ("paid", "refunded", "closed", "failed")


@dataclass(frozen=True)
class Window:
    """One channel's sliding window: orders with an outcome, and how many of them were paid."""

    orders: int
    paid: int

    def rate(self) -> Decimal:
        return Decimal(self.paid) / Decimal(self.orders) if self.orders else Decimal(0)


@dataclass(frozen=True)
class Rule:
    window_minutes: int = 60
    min_orders: int = 20
    threshold: Decimal = Decimal("0.80")
    exploration: Decimal = Decimal("0.05")


@dataclass(frozen=True)
class Routing:
    """The cashier's channels in order (the first is preselected), the ones left out, and why."""

    channels: tuple[str, ...]
    excluded: tuple[str, ...] = ()
    explored: bool = False
    rates: Mapping[str, Decimal] = field(default_factory=dict)  # measured channels only
    window_minutes: int = 60
    pilot_arm: str | None = None  # "candidate" | "incumbent" while a channel pilot runs


ChannelPilot = tuple[str, Decimal]  # the candidate channel, the share of cashier sessions it gets first
_pilot_sources: list[Callable[[Session], ChannelPilot | None]] = []


def register_channel_pilot(source: Callable[[Session], ChannelPilot | None]) -> None:
    """Register where the running channel pilot comes from (the partners domain, at start-up)."""
    if source not in _pilot_sources:
        _pilot_sources.append(source)


def channel_pilot(session: Session) -> ChannelPilot | None:
    for source in _pilot_sources:
        found = source(session)
        if found is not None:
            return found
    return None


def pilot_bucket(shopper_key: str) -> Decimal:
    """A stable number in [0, 1) for a shopper, independent of the exploration bucket."""
    digest = hashlib.sha256(f"cashier-pilot:{shopper_key}".encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64)


def with_pilot(routing: Routing, pilot: ChannelPilot, shopper_key: str) -> Routing:
    """Pure: the candidate first for the pilot's share of shoppers, second for the others."""
    candidate, share = pilot
    others = [c for c in routing.channels if c != candidate]
    if candidate not in routing.channels or not others:
        return routing
    if pilot_bucket(shopper_key) < share:
        return replace(routing, channels=(candidate, *others), pilot_arm="candidate")
    return replace(routing, channels=(others[0], candidate, *others[1:]), pilot_arm="incumbent")


def shopper_bucket(shopper_key: str) -> Decimal:
    """A stable number in [0, 1) for a shopper: the same key always lands in the same place."""
    digest = hashlib.sha256(f"cashier-routing:{shopper_key}".encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) / Decimal(2**64)


def is_explorer(shopper_key: str, share: Decimal) -> bool:
    return shopper_bucket(shopper_key) < share


def route(windows: Mapping[str, Window], rule: Rule, shopper_key: str,
          default_order: Sequence[str] = DEFAULT_ORDER) -> Routing:
    """Pure: order `default_order` by the windows' success rates for this shopper (see the module)."""
    position = {code: i for i, code in enumerate(default_order)}
    rates = {code: windows[code].rate() for code in default_order
             if code in windows and windows[code].orders >= rule.min_orders}
    if is_explorer(shopper_key, rule.exploration):
        worst_first = sorted(default_order, key=lambda c: (rates.get(c, Decimal(2)), -position[c]))
        return Routing(tuple(worst_first), (), True, rates, rule.window_minutes)
    failing = tuple(c for c in default_order if c in rates and rates[c] < rule.threshold)
    if len(failing) == len(default_order):
        failing = ()
    measured = sorted((c for c in rates if c not in failing), key=lambda c: (-rates[c], position[c]))
    unmeasured = [c for c in default_order if c not in rates]
    return Routing(tuple(measured + unmeasured), failing, False, rates, rule.window_minutes)


def windows(session: Session, *, window_minutes: int, now: datetime | None = None) -> dict[str, Window]:
    """Every channel's window, in one query over payment orders."""
    until = now or utcnow()
    since = until - timedelta(minutes=window_minutes)
    paid = case((PaymentOrder.status.in_(("paid", "refunded")), 1), else_=0)
    rows = session.execute(
        select(PaymentOrder.channel, func.count(), func.coalesce(func.sum(paid), 0))
        .where(PaymentOrder.created_at >= since, PaymentOrder.created_at <= until, PaymentOrder.status.in_(_OUTCOMES),
               PaymentOrder.agreement_id.is_(None), PaymentOrder.training.is_(False))
        .group_by(PaymentOrder.channel)
    ).all()
    return {str(channel): Window(int(count), int(ok)) for channel, count, ok in rows}


def settings_rule() -> Rule | None:
    """The configured rule, or None when routing is off."""
    s = get_payment_settings()
    if not s.cashier_routing:
        return None
    return Rule(window_minutes=s.cashier_routing_window_minutes, min_orders=s.cashier_routing_min_orders,
                threshold=s.cashier_routing_threshold, exploration=s.cashier_routing_exploration)


def routing_enabled() -> bool:
    return get_payment_settings().cashier_routing


def cashier_routing(session: Session, shopper_key: str, default_order: Sequence[str] = DEFAULT_ORDER) -> Routing:
    """The cashier's channels for this shopper: measured when routing is on, the usual order otherwise."""
    rule = settings_rule()
    if rule is None:
        routing = Routing(tuple(default_order))
    else:
        routing = route(windows(session, window_minutes=rule.window_minutes), rule, shopper_key, default_order)
    pilot = channel_pilot(session)
    return routing if pilot is None else with_pilot(routing, pilot, shopper_key)


def window_text(minutes: int) -> str:
    """"近 1 小时" / "近 30 分钟"."""
    return f"近 {minutes // 60} 小时" if minutes % 60 == 0 else f"近 {minutes} 分钟"
