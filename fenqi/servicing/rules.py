"""Pure servicing arithmetic: daily accrual, penalty interest, the APR-cap budget, delinquency buckets.

Everything is integer fen (or nano-fen / parts-per-billion where a fraction must be carried), so the
set-based SQL of close-of-business and these functions compute bit-identical results on SQLite and
PostgreSQL. The SQL in fenqi.servicing.cob mirrors these formulas one for one.

Interest and fee accrual (权责发生制, daily)
    A period k runs from its start s (the previous due date, or the loan's start) to its due date e,
    n = e − s days. After the close of business date D the period has accrued
        target(D) = round_half_up(I_k · d / n),  d = min(D − s, n)
    of its scheduled interest I_k, so each day's accrual is target(D) − target(D−1) and the period
    has accrued exactly I_k at the close of its due date, when it moves to the receivable. Fees
    (flat-fee plans) accrue the same way.

APR cap (综合年化成本上限)
    The schedule's own cost is within the cap by construction (pricing refuses plans above it).
    Penalty interest and late fees may use only the headroom left between the cap and the plan's APR:
    each closed day adds  outstanding principal × (cap − APR) / 365  to the loan's cost budget (kept
    in nano-fen), and the penalty plus late fee charged on a day is clipped so that the loan's total
    penalty charges never exceed the budget accumulated so far. So every fen of outstanding principal
    costs, per year, at most the plan's APR in scheduled interest and fees plus (cap − APR) in
    penalties: the total cost stays within the cap.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

PPB = 1_000_000_000
DAYS_PER_YEAR = 365

DEFAULT_BUCKETS: tuple[tuple[int, str], ...] = ((0, "current"), (1, "M1"), (31, "M2"), (61, "M3"), (91, "M4+"))


def rate_ppb(rate: Decimal) -> int:
    """A rate as an integer in parts per billion, half up (0.0005 → 500000)."""
    return int((Decimal(rate) * PPB).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cap_headroom_ppb(apr_cap: Decimal, plan_apr: Decimal) -> int:
    """(cap − APR) per year in ppb, floored, never negative."""
    return max(0, int(((Decimal(apr_cap) - Decimal(plan_apr)) * PPB).to_integral_value(rounding=ROUND_FLOOR)))


def accrual_target(total_fen: int, days_elapsed: int, period_days: int) -> int:
    """round_half_up(total · d / n) with d clamped to 0..n; n ≤ 0 means the whole amount."""
    if period_days <= 0:
        return total_fen
    d = min(max(days_elapsed, 0), period_days)
    return (total_fen * d * 2 + period_days) // (2 * period_days)


def daily_penalty(overdue_principal_fen: int, penalty_rate_ppb: int) -> int:
    """round_half_up(overdue principal × daily penalty rate)."""
    return (overdue_principal_fen * penalty_rate_ppb * 2 + PPB) // (2 * PPB)


def budget_increment_nfen(principal_fen: int, headroom_ppb: int) -> int:
    """One day's APR-cap budget for penalties, in nano-fen: principal × headroom / 365, floored."""
    return principal_fen * headroom_ppb // DAYS_PER_YEAR


def penalty_room(cap_budget_nfen: int, penalty_charged_fen: int) -> int:
    """How many fen of penalty or late fee may still be charged under the APR cap."""
    return max(0, cap_budget_nfen // PPB - penalty_charged_fen)


def days_past_due(closed: date, oldest_unpaid_due: date | None) -> int:
    """dpd after the close of business date `closed`: an amount still unpaid at the close of its due
    date is 1 day past due (it is overdue from that close on), the next close 2, and so on."""
    return max(0, (closed - oldest_unpaid_due).days + 1) if oldest_unpaid_due is not None else 0


def bucket_for(dpd: int, buckets: Sequence[tuple[int, str]] = DEFAULT_BUCKETS) -> str:
    """The delinquency bucket: the last bucket whose lower bound is ≤ dpd."""
    name = buckets[0][1]
    for lower, label in buckets:
        if dpd >= lower:
            name = label
    return name
