"""Pure servicing arithmetic, exhaustively: the waterfall, daily accrual, penalty, the APR-cap budget."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from itertools import permutations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fenqi.servicing.allocation import COMPONENTS, Owed, allocate
from fenqi.servicing.rules import (
    DEFAULT_BUCKETS,
    PPB,
    accrual_target,
    bucket_for,
    budget_increment_nfen,
    cap_headroom_ppb,
    daily_penalty,
    penalty_room,
    rate_ppb,
)
from tests.servicing.support import PURE

fen = st.integers(min_value=0, max_value=10_000_000)
owed_rows = st.lists(st.tuples(fen, fen, fen), max_size=6).map(
    lambda rows: [Owed(i + 1, f, n, p) for i, (f, n, p) in enumerate(rows)]
)
orders = st.sampled_from(list(permutations(COMPONENTS)))


@PURE
@given(fen, fen, owed_rows, orders)
def test_the_waterfall_neither_creates_nor_loses_a_fen(
    amount: int, penalty: int, owed: list[Owed], order: tuple[str, ...]
) -> None:
    a = allocate(amount, penalty, owed, order)
    assert a.applied + a.credit == amount
    assert 0 <= a.penalty <= penalty
    for row in owed:
        for c in ("fee", "interest", "principal"):
            assert 0 <= getattr(a, c).get(row.period, 0) <= getattr(row, c)
    total_owed = penalty + sum(r.fee + r.interest + r.principal for r in owed)
    assert a.applied == min(amount, total_owed)
    # Credit is left only when everything owed is paid.
    assert a.credit == 0 or a.applied == total_owed


@PURE
@given(fen, fen, owed_rows, orders)
def test_the_waterfall_pays_in_order_and_oldest_first(
    amount: int, penalty: int, owed: list[Owed], order: tuple[str, ...]
) -> None:
    a = allocate(amount, penalty, owed, order)
    sequence: list[tuple[int, int]] = []  # (paid, owed) in the order the waterfall visits them
    for c in order:
        if c == "penalty":
            sequence.append((a.penalty, penalty))
        else:
            sequence += [(getattr(a, c).get(r.period, 0), getattr(r, c)) for r in owed]
    # Nothing is paid after something earlier was left partly unpaid.
    short = False
    for paid, due in sequence:
        if short:
            assert paid == 0
        if paid < due:
            short = True


def test_the_waterfall_example_penalty_fee_interest_principal() -> None:
    owed = [Owed(1, fee=100, interest=200, principal=1000), Owed(2, fee=100, interest=150, principal=1000)]
    a = allocate(1_600, 50, owed)
    assert (a.penalty, a.fee, a.interest, a.principal, a.credit) == (
        50,
        {1: 100, 2: 100},
        {1: 200, 2: 150},
        {1: 1000},
        0,
    )
    with pytest.raises(ValueError, match="permutation"):
        allocate(1, 0, owed, ("fee", "interest"))


def _half_up(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@PURE
@given(fen, st.integers(min_value=1, max_value=400))
def test_daily_accrual_adds_up_to_the_period_exactly(total: int, n: int) -> None:
    targets = [accrual_target(total, d, n) for d in range(-2, n + 3)]
    assert targets == sorted(targets)  # never decreasing
    assert accrual_target(total, 0, n) == 0
    assert accrual_target(total, n, n) == accrual_target(total, n + 5, n) == total
    for d in range(n + 1):
        assert accrual_target(total, d, n) == _half_up(Decimal(total) * d / n)


@PURE
@given(fen, st.decimals(min_value=0, max_value=Decimal("0.01"), places=6))
def test_penalty_is_overdue_principal_times_the_daily_rate_half_up(principal: int, rate: Decimal) -> None:
    assert daily_penalty(principal, rate_ppb(rate)) == _half_up(Decimal(principal) * rate)


@PURE
@given(
    st.decimals(min_value=Decimal("0.01"), max_value=1, places=4),
    st.decimals(min_value=0, max_value=1, places=8),
    st.lists(st.tuples(fen, st.integers(min_value=0, max_value=10**6)), max_size=60),
)
def test_the_apr_cap_budget_bounds_every_penalty(cap: Decimal, plan_apr: Decimal, days: list[tuple[int, int]]) -> None:
    """Penalties charged day by day, each clipped to the room, never exceed (cap − APR) × Σ principal-days / 365."""
    headroom = cap_headroom_ppb(cap, plan_apr)
    assert headroom == max(0, int((cap - plan_apr) * PPB))
    budget = charged = 0
    exact = Decimal(0)
    for principal, wanted in days:
        budget += budget_increment_nfen(principal, headroom)
        exact += Decimal(principal) * max(Decimal(0), cap - plan_apr) / 365
        take = min(wanted, penalty_room(budget, charged))
        charged += take
        assert charged <= exact
        assert penalty_room(budget, charged) >= 0


@PURE
@given(st.integers(min_value=0, max_value=5000))
def test_buckets(dpd: int) -> None:
    b = bucket_for(dpd, DEFAULT_BUCKETS)
    expected = "current" if dpd == 0 else "M1" if dpd <= 30 else "M2" if dpd <= 60 else "M3" if dpd <= 90 else "M4+"
    assert b == expected
