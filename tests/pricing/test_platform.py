"""花呗分期 plans: the fee table, who pays, per-period payments and the APR (the same function as own plans)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenqi.pricing.apr import apr
from fenqi.pricing.platform import DEFAULT_FEE_RATES, parse_fee_rates, platform_plan, platform_plans

RATES = parse_fee_rates(DEFAULT_FEE_RATES)


def test_the_demo_fee_table() -> None:
    assert {3: Decimal("0.023"), 6: Decimal("0.045"), 12: Decimal("0.075")} == RATES
    with pytest.raises(ValueError):
        parse_fee_rates("3:2.3,6:4.5")  # 12 periods missing
    with pytest.raises(ValueError):
        parse_fee_rates("3:2.3,6:4.5,12:7.5,24:9")


def test_shopper_paid_fee_is_spread_over_the_periods_and_has_an_apr() -> None:
    plan = platform_plan(150_000, 3, 0, RATES)
    assert (plan.fee_fen, plan.shopper_fee_fen, plan.merchant_fee_fen) == (3_450, 3_450, 0)
    assert plan.installments_fen == (51_150, 51_150, 51_150)
    assert plan.total_repayment_fen == 153_450 and not plan.interest_free
    assert plan.apr == apr(Decimal("1500.00"), [Decimal("511.50")] * 3)
    assert Decimal("0.137") < plan.apr < Decimal("0.138")  # 2.3% over three months is ≈13.7% a year


def test_merchant_paid_fee_is_interest_free_for_the_shopper() -> None:
    plan = platform_plan(150_000, 12, 100, RATES)
    assert (plan.shopper_fee_fen, plan.merchant_fee_fen) == (0, 11_250)
    assert plan.interest_free and plan.apr == 0 and plan.total_repayment_fen == 150_000


def test_only_what_alipay_accepts() -> None:
    for term, percent in ((4, 0), (24, 0), (3, 50)):
        with pytest.raises(ValueError):
            platform_plan(10_000, term, percent, RATES)


@settings(max_examples=60, deadline=None)
@given(amount=st.one_of(st.integers(1, 100), st.integers(1, 10**9)), percent=st.sampled_from([0, 100]))
def test_every_fen_is_accounted_for(amount: int, percent: int) -> None:
    for plan in platform_plans(amount, percent, RATES):
        assert plan.shopper_fee_fen + plan.merchant_fee_fen == plan.fee_fen
        assert plan.total_repayment_fen == amount + plan.shopper_fee_fen
        assert len(plan.installments_fen) == plan.term and min(plan.installments_fen) >= 0
        assert plan.apr >= 0 and (plan.apr == 0) == (plan.shopper_fee_fen == 0)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10**9), st.integers(0, 10**7), st.lists(st.integers(1, 10**6), min_size=1, max_size=6))
def test_refunds_in_parts_give_back_exactly_the_fee(paid: int, fee: int, parts: list[int]) -> None:
    from fenqi.pricing.platform import returned_fee_fen

    total = sum(parts)
    parts = [p * paid // total or 1 for p in parts]  # scaled to at most the amount paid
    before = back = 0
    for part in parts:
        if before + part > paid:
            break
        got = returned_fee_fen(fee, paid, before, part)
        assert got >= 0
        back, before = back + got, before + part
    assert back <= fee
    assert returned_fee_fen(fee, paid, before, paid - before) + back == fee if before < paid else back == fee
