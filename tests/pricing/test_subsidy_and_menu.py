"""Merchant subsidy of interest-free plans, the plan menu and the APR cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenqi.pricing.apr import monthly_irr
from fenqi.pricing.errors import AprAboveCap
from fenqi.pricing.menu import ProductSpec, minimum_down_payment, plan_menu
from fenqi.pricing.quote import make_request, quote
from fenqi.pricing.schedule import Method, build_schedule
from fenqi.pricing.subsidy import merchant_subsidy

D = Decimal
START = date(2026, 1, 15)


def test_subsidy_hand_checked() -> None:
    # 3000 over 3 months at a funder rate of 12%: PV = 1000/1.01 + 1000/1.01² + 1000/1.01³ = 2940.985…
    rows = build_schedule(Method.INTEREST_FREE, D("3000.00"), 3, START)
    assert merchant_subsidy(D("3000.00"), [r.total for r in rows], D("0.12")) == D("59.01")


def test_no_subsidy_when_the_funder_charges_nothing() -> None:
    rows = build_schedule(Method.INTEREST_FREE, D("3000.00"), 3, START)
    assert merchant_subsidy(D("3000.00"), [r.total for r in rows], D("0")) == D("0.00")


@settings(max_examples=200, deadline=None)
@given(
    financed=st.integers(min_value=50_000, max_value=5_000_000).map(lambda fen: D(fen) / 100),
    term=st.sampled_from([3, 6, 12, 24]),
    funder_rate=st.integers(min_value=100, max_value=2400).map(lambda bp: D(bp) / 10000),
)
def test_subsidy_gives_the_funder_exactly_its_rate(financed: Decimal, term: int, funder_rate: Decimal) -> None:
    totals = [r.total for r in build_schedule(Method.INTEREST_FREE, financed, term, START)]
    subsidy = merchant_subsidy(financed, totals, funder_rate)
    assert D(0) < subsidy < financed
    # The funder pays out financed − subsidy and receives the installments: its return is its rate,
    # to within what rounding the subsidy to the fen can move it.
    earned = 12 * monthly_irr(financed - subsidy, totals)
    assert abs(earned - funder_rate) < D("0.0001")
    # A longer wait costs the merchant more (monotone in the term).
    if term > 3:
        shorter = [r.total for r in build_schedule(Method.INTEREST_FREE, financed, 3, START)]
        assert merchant_subsidy(financed, shorter, funder_rate) < subsidy


PRODUCTS = [
    ProductSpec("EI", "等额本息", "EI", Method.EQUAL_INSTALLMENT, (3, 6, 12, 24), annual_rate=D("0.12")),
    ProductSpec("EP", "等额本金", "EP", Method.EQUAL_PRINCIPAL, (3, 6, 12, 24), annual_rate=D("0.10")),
    ProductSpec("FEE", "手续费", "FEE", Method.FLAT_FEE, (3, 6, 12, 24), fee_rate=D("0.006")),
    ProductSpec("IF", "免息", "IF", Method.INTEREST_FREE, (3, 6, 12, 24), funder_rate=D("0.08"),
                down_payment_min_pct=D("0.10")),
    ProductSpec("HOT", "高费率", "HOT", Method.FLAT_FEE, (3, 6, 12, 24), fee_rate=D("0.02")),
]


def test_menu_lists_every_offerable_plan_and_drops_those_above_the_cap() -> None:
    menu = plan_menu(D("5999.00"), PRODUCTS, [3, 6, 12, 24], START, D("0.24"))
    codes = {(o.product.code, o.quote.request.term) for o in menu}
    assert {(c, t) for c in ("EI", "EP", "FEE", "IF") for t in (3, 6, 12, 24)} <= codes
    assert not any(code == "HOT" for code, _ in codes)  # 2% a period ≈ 44% APR: never shown
    assert all(o.quote.apr <= D("0.24") for o in menu)
    interest_free = [o for o in menu if o.product.code == "IF"]
    assert all(o.subsidy > 0 and o.quote.total_cost == 0 for o in interest_free)
    assert all(o.quote.request.down_payment == D("599.90") for o in interest_free)  # 10% of 5999
    terms = [o.quote.request.term for o in menu]
    assert terms == sorted(terms)


def test_menu_respects_financed_limits() -> None:
    small = plan_menu(D("50.00"), PRODUCTS, [3, 6, 12, 24], START, D("0.24"))
    assert small == []  # below every product's minimum financed amount


def test_minimum_down_payment_rounds_up_to_honour_the_minimum() -> None:
    assert minimum_down_payment(D("5999.99"), D("0.10")) == D("600.00")  # 599.999 → 600.00


def test_quote_above_cap_is_refused_with_a_clear_message() -> None:
    request = make_request(price="5999", down_payment="0", term=12, method="flat-fee", fee_rate="0.02", today=START)
    with pytest.raises(AprAboveCap) as exc:
        quote(request, D("0.24"))
    assert "24.00%" in exc.value.message("zh") and "APR" in exc.value.message("en")


def test_plan_exactly_at_the_cap_is_allowed() -> None:
    request = make_request(price="5999", term=24, method="equal-installment", annual_rate="0.24", today=START)
    assert quote(request, D("0.24")).apr == pytest.approx(D("0.24"), abs=D("0.0001"))
