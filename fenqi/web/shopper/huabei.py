"""花呗分期 at the cashier: the shopper may pay the down payment with Alipay Huabei in 3, 6 or 12 periods.
Each choice is shown like our own plan — per-period payment, total cost, APR (the same `apr`) — with the
merchant's cost per sale; who pays the platform's fee is the merchant's setting (100: 免息)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from fenqi.catalog.service import hb_seller_percent
from fenqi.payments.settings import get_payment_settings
from fenqi.pricing.platform import HB_TERMS, platform_plans
from fenqi.web.shopper.common import yuan, yuan_text

PREFIX = "alipay-hb-"


def parse_choice(value: str) -> tuple[str, int | None]:
    """The cashier's choice: "alipay" / "wechatpay", or "alipay-hb-6" (花呗分期, 6 periods)."""
    if value.startswith(PREFIX):
        term = value[len(PREFIX):]
        if term.isdecimal() and int(term) in HB_TERMS:
            return "alipay", int(term)
        return value, None  # refused by signing as an unknown channel
    return value, None


def cashier_options(session: Session, merchant_id: int, down_payment_fen: int) -> list[dict[str, Any]]:
    """The 花呗分期 choices for this down payment (none when there is none to pay)."""
    if down_payment_fen <= 0:
        return []
    percent = hb_seller_percent(session, merchant_id)
    rows = []
    for plan in platform_plans(down_payment_fen, percent, get_payment_settings().hb_fee_rates()):
        rows.append({
            "value": f"{PREFIX}{plan.term}", "term": plan.term, "amount": yuan(plan.amount_fen),
            "first": yuan(plan.installments_fen[0]), "last": yuan(plan.installments_fen[-1]),
            "level": len(set(plan.installments_fen)) == 1, "total_cost": yuan(plan.shopper_fee_fen),
            "total_repayment": yuan(plan.total_repayment_fen), "apr": plan.apr, "interest_free": plan.interest_free,
            "merchant_cost": yuan(plan.merchant_fee_fen),
        })
    return rows


def own_plan_row(offer: dict[str, Any], first: str) -> dict[str, Any]:
    """Our own plan in the same columns: the merchant's cost is its subsidy plus the platform's fee."""
    merchant = offer["merchant"]
    cost = Decimal(merchant["subsidy"]) + Decimal(merchant["fee"])
    return {"term": offer["term"], "amount": yuan_text(offer["financed"]), "first": first,
            "total_cost": yuan_text(offer["total_cost"]), "apr": offer["apr"], "merchant_cost": f"{cost:,.2f}"}
