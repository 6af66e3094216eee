"""Platform installments (花呗分期): the shopper pays the amount due at the cashier with Alipay Huabei in
3, 6 or 12 periods and Alipay carries the credit. Pure functions, no database.

The platform charges a fee (手续费) of a fraction of the amount, by number of periods (the fee table, demo
defaults 2.3% / 4.5% / 7.5% for 3 / 6 / 12). Who pays it is the seller percent (`hb_fq_seller_percent`):
0 — the shopper, spread evenly over the periods; 100 — the merchant, deducted from the settlement, and the
shopper pays nothing more (免息). Either way the plan is shown like our own plans: per-period payment, the
shopper's total cost and the APR of the shopper's cash flows (the same `apr` as every own plan), plus the
merchant's cost per sale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from fenqi.pricing.apr import apr

HB_TERMS = (3, 6, 12)
SELLER_PERCENTS = (0, 100)
DEFAULT_FEE_RATES = "3:2.3,6:4.5,12:7.5"  # periods:percent of the amount


def parse_fee_rates(text: str) -> dict[int, Decimal]:
    """"3:2.3,6:4.5,12:7.5" → {3: 0.023, 6: 0.045, 12: 0.075}; every term of HB_TERMS must be there."""
    rates: dict[int, Decimal] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        term, _, pct = part.partition(":")
        try:
            n, value = int(term), Decimal(pct.strip()) / 100
        except (ValueError, ArithmeticError):
            raise ValueError(f"fee table entry {part.strip()!r}: periods:percent, e.g. 3:2.3") from None
        if n not in HB_TERMS or not Decimal(0) <= value < 1:
            raise ValueError(f"fee table entry {part.strip()!r}: periods in 3/6/12, percent in [0, 100)")
        rates[n] = value
    missing = [n for n in HB_TERMS if n not in rates]
    if missing:
        raise ValueError(f"fee table lacks {missing} periods")
    return rates


def fee_fen(amount_fen: int, term: int, rates: Mapping[int, Decimal]) -> int:
    """The platform's fee on the amount for `term` periods, to the fen (ROUND_HALF_UP)."""
    return int((Decimal(amount_fen) * rates[term]).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def returned_fee_fen(fee_fen: int, paid_fen: int, refunded_before_fen: int, refund_fen: int) -> int:
    """The part of the merchant's 花呗分期 fee a refund gives back: the fee in proportion to the amount
    refunded, counted cumulatively over the trade's refunds in the order they were made (so refunds in
    parts that add up to the whole amount give back exactly the whole fee, never a fen more or less).

    returned = round(fee × (before + refund) / paid) − round(fee × before / paid), ROUND_HALF_UP."""
    if fee_fen <= 0 or paid_fen <= 0 or refund_fen <= 0:
        return 0

    def upto(refunded: int) -> int:
        share = Decimal(fee_fen) * Decimal(min(refunded, paid_fen)) / Decimal(paid_fen)
        return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    return upto(refunded_before_fen + refund_fen) - upto(refunded_before_fen)


def _even_parts(total_fen: int, term: int) -> list[int]:
    """total / term cut to the fen each period, the last takes what is left (never less than the others,
    never negative however small the amount)."""
    part = total_fen // term
    return [part] * (term - 1) + [total_fen - part * (term - 1)]


@dataclass(frozen=True)
class PlatformPlan:
    term: int
    seller_percent: int
    amount_fen: int  # what the shopper pays with Huabei (the down payment)
    fee_fen: int  # the platform's whole fee
    shopper_fee_fen: int
    merchant_fee_fen: int  # the merchant's cost per sale
    installments_fen: tuple[int, ...]  # what the shopper repays Huabei each period
    apr: Decimal  # of the shopper's cash flows, a fraction, unrounded

    @property
    def interest_free(self) -> bool:
        return self.shopper_fee_fen == 0

    @property
    def total_repayment_fen(self) -> int:
        return sum(self.installments_fen)


def platform_plan(amount_fen: int, term: int, seller_percent: int, rates: Mapping[int, Decimal]) -> PlatformPlan:
    if term not in HB_TERMS:
        raise ValueError(f"hb_fq_num {term}: 3, 6 or 12")
    if seller_percent not in SELLER_PERCENTS:
        raise ValueError(f"hb_fq_seller_percent {seller_percent}: 0 or 100")
    if amount_fen <= 0:
        raise ValueError("amount must be positive")
    fee = fee_fen(amount_fen, term, rates)
    merchant = fee * seller_percent // 100
    shopper = fee - merchant
    totals = tuple(_even_parts(amount_fen + shopper, term))
    rate = apr(Decimal(amount_fen) / 100, [Decimal(t) / 100 for t in totals])
    return PlatformPlan(term, seller_percent, amount_fen, fee, shopper, merchant, totals, rate)


def platform_plans(amount_fen: int, seller_percent: int, rates: Mapping[int, Decimal]) -> list[PlatformPlan]:
    return [platform_plan(amount_fen, n, seller_percent, rates) for n in HB_TERMS]
