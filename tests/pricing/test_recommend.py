"""Personalized plans: the recommended plan keeps the installment within the income share and the decision's
limit and allowed plans, is the least really paid of those that fit, and no plan is ever left out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from fenqi.pricing.menu import ProductSpec, plan_menu
from fenqi.pricing.recommend import ShopperFit, highest_installment, installment_share, key, recommend, total_paid
from fenqi.pricing.schedule import Method

D = Decimal
START = date(2026, 1, 15)
PRODUCTS = [
    ProductSpec("EI", "等额本息", "EI", Method.EQUAL_INSTALLMENT, (3, 6, 12, 24), annual_rate=D("0.12")),
    ProductSpec("FEE", "手续费", "FEE", Method.FLAT_FEE, (3, 6, 12, 24), fee_rate=D("0.006")),
    ProductSpec("IF", "免息", "IF", Method.INTEREST_FREE, (3, 6), funder_rate=D("0.08"),
                down_payment_min_pct=D("0.10")),
]


def test_recommendation_by_hand() -> None:
    # ¥5,999 with no down payment on EI: 3 months ≈ ¥2,040 a month, 6 ≈ 1,035, 12 ≈ 533, 24 ≈ 282;
    # interest-free needs 10% down (¥599.90) then ¥1,799.70 (3) or ¥899.85 (6).
    options = plan_menu(D("5999.00"), PRODUCTS, [3, 6, 12, 24], START, D("0.24"))
    # Income ¥5,000 and 30%: at most ¥1,500 a month; the cheapest plan that fits is interest-free over 6 months.
    advice = recommend(options, ShopperFit(monthly_income=D("5000.00")), D("0.30"))
    assert advice.recommended is not None and key(advice.recommended) == ("IF", 6)
    assert installment_share(advice.recommended, D("5000.00")) == D("0.1800")  # 899.85 / 5000 = 17.997%
    # The decision allows EI only: the cheapest EI that fits is 6 months (1,035 ≤ 1,500; 3 months is above).
    ei_only = ShopperFit(monthly_income=D("5000.00"), allowed=frozenset(("EI", t) for t in (3, 6, 12, 24)))
    advice = recommend(options, ei_only, D("0.30"))
    assert advice.recommended is not None and key(advice.recommended) == ("EI", 6)
    # Nothing is known of the shopper: no recommendation, the menu as it was.
    assert recommend(options, ShopperFit()).recommended is None
    assert recommend(options, ShopperFit()).ordered == options
    # An income too small for any plan: none recommended, every plan still listed.
    poor = recommend(options, ShopperFit(monthly_income=D("500.00")), D("0.30"))
    assert poor.recommended is None and len(poor.ordered) == len(options)


@settings(max_examples=25, deadline=None)
@given(
    price=st.integers(min_value=80_000, max_value=1_500_000).map(lambda fen: D(fen) / 100),
    income=st.one_of(st.none(), st.integers(min_value=100_000, max_value=3_000_000).map(lambda fen: D(fen) / 100)),
    limit=st.one_of(st.none(), st.integers(min_value=50_000, max_value=2_000_000).map(lambda fen: D(fen) / 100)),
    share=st.sampled_from([D("0.20"), D("0.30"), D("0.50")]),
    allowed=st.one_of(st.none(), st.frozensets(st.sampled_from(
        [(p, t) for p in ("EI", "FEE", "IF") for t in (3, 6, 12, 24)]), min_size=1)),
)
def test_recommendation_keeps_the_share_and_hides_nothing(
    price: Decimal, income: Decimal | None, limit: Decimal | None, share: Decimal,
    allowed: frozenset[tuple[str, int]] | None,
) -> None:
    options = plan_menu(price, PRODUCTS, [3, 6, 12, 24], START, D("0.24"))
    fit = ShopperFit(monthly_income=income, credit_limit=limit, allowed=allowed)
    advice = recommend(options, fit, share)
    # Nothing hidden: the same plans, each once, with the fitting ones first.
    assert sorted(map(key, advice.ordered)) == sorted(map(key, options))
    assert [key(o) in advice.fitting for o in advice.ordered] == sorted(
        (key(o) in advice.fitting for o in advice.ordered), reverse=True)
    rec = advice.recommended
    if rec is None:
        assert not advice.fitting or not fit.known
        return
    assert advice.ordered[0] is rec
    if income is not None:
        assert highest_installment(rec) <= share * income
    if limit is not None:
        assert rec.quote.financed <= limit
    if allowed is not None:
        assert key(rec) in allowed
    # No plan that fits costs less in all; a cheaper plan that does not fit is still on the list.
    assert all(total_paid(rec) <= total_paid(o) for o in options if key(o) in advice.fitting)
