"""The cashier's channels on shopper pages: measured routing (fenqi.payments.routing) when it is on — the
order, the channels left out, the line that says why in the page's language, and the refusal of a channel
left out (failover to the others)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from fenqi.payments.routing import Routing, cashier_routing, routing_enabled, window_text
from fenqi.web.shopper.common import CHANNELS


def routed(session: Session, shopper_user_id: int | None, application_id: int) -> Routing:
    """The channels for this application's shopper (stable per shopper for the exploration share)."""
    key = f"user:{shopper_user_id}" if shopper_user_id else f"app:{application_id}"
    return cashier_routing(session, key, tuple(CHANNELS))


def offered(routing: Routing) -> dict[str, tuple[str, str]]:
    return {code: CHANNELS[code] for code in routing.channels}


def note(routing: Routing) -> dict[str, str] | None:
    """Why the channels are in this order (only when measured routing is on)."""
    if not routing_enabled():
        return None
    window = window_text(routing.window_minutes)
    rates = "，".join(f"{CHANNELS[c][0]} {_percent(r)}" for c, r in routing.rates.items())
    shown = f"（{rates}）" if rates else ""
    if routing.explored:
        zh = f"为持续评估各支付方式，本次按{window}支付成功率由低到高排列{shown}"
    else:
        zh = f"按{window}支付成功率排序{shown}"
        if routing.excluded:
            zh += "；成功率过低、暂不提供：" + "、".join(CHANNELS[c][0] for c in routing.excluded)
    return {"zh": zh, "en": "Ordered by recent payment success rate"}


def refusal(session: Session, shopper_user_id: int | None, application_id: int, channel: str,
            lang: str) -> str | None:
    """The message when `channel` is left out for now (None when it may be used)."""
    if not routing_enabled() or channel not in routed(session, shopper_user_id, application_id).excluded:
        return None
    name = CHANNELS[channel]
    return (f"{name[0]}近期支付成功率过低，暂不提供，请选择其他支付方式" if lang == "zh"
            else f"{name[1]} is unavailable for now (low recent success rate); choose another")


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"
