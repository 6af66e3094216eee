"""Merchant subsidy (贴息) for interest-free plans.

Definition. The funder lends the financed amount P and receives the shopper's interest-free
installments t_1..t_n. To earn its own annual rate R on that money, the funder may pay out only the
present value of those installments discounted at R/12 a month:

    subsidy = round_half_up( P − Σ t_k / (1 + R/12)^k )

The merchant bears the difference: it is deducted from the merchant's settlement, so the funder
disburses P − subsidy and the shopper still repays exactly P. By construction the internal rate of
return of (−(P − subsidy), t_1..t_n) is R (to within the fen rounding of the subsidy).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext

from fenqi.kit.money import ZERO, round_fen


def present_value(totals: Sequence[Decimal], monthly_rate: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 34
        v = 1 / (1 + monthly_rate)
        factor, pv = Decimal(1), Decimal(0)
        for total in totals:
            factor *= v
            pv += total * factor
        return pv


def merchant_subsidy(financed: Decimal, totals: Sequence[Decimal], funder_annual_rate: Decimal) -> Decimal:
    """What the merchant pays the funder so that an interest-free plan earns the funder its rate."""
    if funder_annual_rate <= 0:
        return ZERO
    return max(round_fen(financed - present_value(totals, funder_annual_rate / 12)), ZERO)


def coupon_subsidy(base_totals: Sequence[Decimal], coupon_totals: Sequence[Decimal],
                   funder_annual_rate: Decimal | None) -> Decimal:
    """What a coupon costs its sponsor: the present value, at the funder's own rate, of what the shopper no
    longer pays — so the funder receives the same value as without the coupon:

        subsidy = round_half_up( Σ t_k / (1 + R/12)^k − Σ t'_k / (1 + R/12)^k )

    (t: the plan's installments, t': with the coupon). Without a funder rate, the nominal difference."""
    monthly = (funder_annual_rate or ZERO) / 12
    return max(round_fen(present_value(base_totals, monthly) - present_value(coupon_totals, monthly)), ZERO)
