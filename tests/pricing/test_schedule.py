"""Schedules: hand-checked figures, DESIGN.md's rounding rules, and properties over random plans."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenqi.kit.money import FEN, ZERO, round_fen
from fenqi.pricing.apr import apr
from fenqi.pricing.dates import add_months, due_dates
from fenqi.pricing.schedule import Method, build_schedule, level_payment

D = Decimal


def test_mortgage_equal_installment_hand_checked() -> None:
    rows = build_schedule(Method.EQUAL_INSTALLMENT, D("1000000.00"), 360, date(2026, 1, 15), D("0.049"))
    assert rows[0].total == D("5307.27")
    assert rows[0].interest == D("4083.33")  # 1,000,000 × 0.049/12, half up
    assert rows[0].principal == D("1223.94")
    assert all(r.total == D("5307.27") for r in rows[:-1])
    assert rows[-1].remaining_principal == ZERO


def test_mortgage_equal_principal_hand_checked() -> None:
    rows = build_schedule(Method.EQUAL_PRINCIPAL, D("1000000.00"), 360, date(2026, 1, 15), D("0.049"))
    assert rows[0].total == D("6861.11")  # 2777.78 principal + 4083.33 interest
    assert rows[0].principal == D("2777.78")
    assert rows[-1].principal == D("1000000.00") - 359 * D("2777.78")


def test_flat_fee_charges_the_same_fee_every_period() -> None:
    rows = build_schedule(Method.FLAT_FEE, D("4999.00"), 12, date(2026, 1, 15), fee_rate=D("0.006"))
    assert {r.fee for r in rows} == {D("29.99")}  # 4999 × 0.6% = 29.994 → 29.99
    assert all(r.interest == ZERO for r in rows)
    assert sum(r.principal for r in rows) == D("4999.00")
    assert rows[0].principal == D("416.58") and rows[-1].principal == D("4999.00") - 11 * D("416.58")


def test_interest_free_costs_the_shopper_nothing() -> None:
    rows = build_schedule(Method.INTEREST_FREE, D("5399.10"), 12, date(2026, 1, 15))
    assert sum(r.total for r in rows) == D("5399.10")
    assert apr(D("5399.10"), [r.total for r in rows]) == 0


def test_rounding_is_half_up_not_bankers() -> None:
    # 1000.50 / 12 monthly at 1.2%/yr: balance·r = 1.0005 → 1.00; a .005 case must round up.
    assert round_fen(D("2.345")) == D("2.35")
    assert round_fen(D("2.355")) == D("2.36")  # banker's rounding would give 2.36 here and 2.34 above
    rows = build_schedule(Method.EQUAL_PRINCIPAL, D("0.50"), 4, date(2026, 1, 1))
    assert [r.principal for r in rows] == [D("0.13"), D("0.13"), D("0.13"), D("0.11")]  # 0.125 → 0.13


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2026, 1, 31), [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]),
        (date(2027, 12, 31), [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]),
        (date(2026, 8, 30), [date(2026, 9, 30), date(2026, 10, 30), date(2026, 11, 30), date(2026, 12, 30)]),
        (date(2026, 11, 15), [date(2026, 12, 15), date(2027, 1, 15), date(2027, 2, 15), date(2027, 3, 15)]),
    ],
)
def test_due_dates_clamp_to_month_end_without_drifting(start: date, expected: list[date]) -> None:
    assert due_dates(start, 4) == expected
    assert add_months(start, 0) == start


amounts = st.integers(min_value=1, max_value=100_000_000).map(lambda fen: D(fen) / 100)
rates = st.integers(min_value=0, max_value=3600).map(lambda bp: D(bp) / 10000)  # 0 .. 36% a year
fee_rates = st.integers(min_value=0, max_value=300).map(lambda bp: D(bp) / 10000)  # 0 .. 3% a period
terms = st.integers(min_value=1, max_value=60)
starts = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))


@settings(max_examples=500, deadline=None)
@given(
    method=st.sampled_from(list(Method)),
    financed=amounts,
    term=terms,
    annual_rate=rates,
    fee_rate=fee_rates,
    start=starts,
)
def test_schedule_invariants(
    method: Method, financed: Decimal, term: int, annual_rate: Decimal, fee_rate: Decimal, start: date
) -> None:
    if method in (Method.FLAT_FEE, Method.INTEREST_FREE):
        annual_rate = ZERO
    rows = build_schedule(method, financed, term, start, annual_rate, fee_rate)
    assert len(rows) == term
    assert sum(r.principal for r in rows) == financed  # not a fen created or lost
    balance = financed
    for r in rows:
        assert r.principal >= 0 and r.interest >= 0 and r.fee >= 0
        assert r.remaining_principal == balance - r.principal
        assert 0 <= r.remaining_principal <= balance  # never negative, never rising
        assert r.total == r.principal + r.interest + r.fee
        for amount in (r.principal, r.interest, r.fee, r.remaining_principal):
            assert amount == amount.quantize(FEN)
        balance = r.remaining_principal
    assert rows[-1].remaining_principal == ZERO
    assert [r.due_date for r in rows] == due_dates(start, term)
    if method is not Method.FLAT_FEE:
        assert all(r.fee == ZERO for r in rows)
    if method is Method.INTEREST_FREE:
        assert sum(r.total for r in rows) == financed


@settings(max_examples=300, deadline=None)
@given(
    financed=st.integers(min_value=100_000, max_value=100_000_000).map(lambda fen: D(fen) / 100),
    term=st.integers(min_value=3, max_value=60),
    annual_rate=st.integers(min_value=1, max_value=3600).map(lambda bp: D(bp) / 10000),
)
def test_equal_installment_apr_equals_its_rate(financed: Decimal, term: int, annual_rate: Decimal) -> None:
    rows = build_schedule(Method.EQUAL_INSTALLMENT, financed, term, date(2026, 3, 31), annual_rate)
    assert abs(apr(financed, [r.total for r in rows]) - annual_rate) <= D("0.0001")


@settings(max_examples=300, deadline=None)
@given(
    financed=st.integers(min_value=10_000, max_value=100_000_000).map(lambda fen: D(fen) / 100),
    term=st.integers(min_value=1, max_value=60),
    annual_rate=st.integers(min_value=0, max_value=3600).map(lambda bp: D(bp) / 10000),
)
def test_level_payment_matches_numpy_financial(financed: Decimal, term: int, annual_rate: Decimal) -> None:
    # numpy-financial works in binary floating point: a cross-check only, never a source of money.
    expected = -npf.pmt(float(annual_rate) / 12, term, float(financed))
    assert abs(float(level_payment(financed, annual_rate / 12, term)) - expected) <= 0.01
    rows = build_schedule(Method.EQUAL_INSTALLMENT, financed, term, date(2026, 1, 1), annual_rate)
    assert abs(float(rows[0].total) - expected) <= 0.01


@settings(max_examples=200, deadline=None)
@given(
    financed=st.integers(min_value=10_000, max_value=10_000_000).map(lambda fen: D(fen) / 100),
    term=st.integers(min_value=1, max_value=36),
    fee_rate=st.integers(min_value=1, max_value=200).map(lambda bp: D(bp) / 10000),
)
def test_apr_is_the_irr_of_the_cash_flows(financed: Decimal, term: int, fee_rate: Decimal) -> None:
    rows = build_schedule(Method.FLAT_FEE, financed, term, date(2026, 1, 1), fee_rate=fee_rate)
    totals = [r.total for r in rows]
    result = apr(financed, totals)
    # Independent check: numpy-financial's IRR of the same flows, and the NPV at our rate is ~0.
    expected = npf.irr([-float(financed), *map(float, totals)]) * 12
    assert abs(float(result) - expected) < 1e-6
    monthly = result / 12
    npv = sum(t / (1 + monthly) ** k for k, t in enumerate(totals, 1)) - financed
    assert abs(npv) < D("1e-6")
