"""APR (年化利率) = 12 × the monthly internal rate of return of the loan's cash flows, in Decimal.

Cash flows: −financed at month 0, then the total of each period at months 1..n. We solve
Σ total_k · v^k = financed for v = 1/(1+i) with Newton's method (safeguarded by bisection),
entirely in Decimal, until the step is below 1e-12 per month (1.2e-11 a year, inside 1e-10).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext

_TOLERANCE = Decimal("1e-12")
_MAX_ITERATIONS = 100


def _npv_and_slope(rate: Decimal, financed: Decimal, totals: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """NPV(i) = Σ t_k (1+i)^-k − P and its derivative, with discount factors built by multiplication."""
    v = 1 / (1 + rate)
    factor = Decimal(1)
    npv = -financed
    slope = Decimal(0)
    for k, total in enumerate(totals, start=1):
        factor *= v
        npv += total * factor
        slope -= k * total * factor * v
    return npv, slope


def monthly_irr(financed: Decimal, totals: Sequence[Decimal], guess: Decimal | None = None) -> Decimal:
    """The monthly rate i ≥ 0 at which the installments' present value equals the financed amount."""
    if financed <= 0:
        raise ValueError("financed amount must be positive")
    paid = sum(totals, Decimal(0))
    if paid <= financed:
        # No cost to the shopper (interest-free), or less repaid than lent: the rate is zero or below,
        # and for a consumer's disclosure a cost-free plan is 0%.
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 34
        low, high = Decimal(0), Decimal(1)  # NPV(0) > 0; a monthly rate of 100% is far beyond any plan
        while _npv_and_slope(high, financed, totals)[0] > 0:
            high *= 2
        rate = guess if guess is not None and low < guess < high else (paid - financed) / financed / len(totals)
        for _ in range(_MAX_ITERATIONS):
            npv, slope = _npv_and_slope(rate, financed, totals)
            if npv > 0:
                low = rate
            else:
                high = rate
            step = npv / slope if slope != 0 else Decimal(0)
            candidate = rate - step
            if not (low < candidate < high):
                candidate = (low + high) / 2  # Newton left the bracket: bisect instead
            if abs(candidate - rate) < _TOLERANCE:
                return +candidate
            rate = candidate
        return +rate


def apr(financed: Decimal, totals: Sequence[Decimal], guess: Decimal | None = None) -> Decimal:
    """Annual percentage rate as a fraction (0.1200 = 12%), unrounded Decimal."""
    return 12 * monthly_irr(financed, totals, guess)
