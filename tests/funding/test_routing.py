"""Routing an approved application to a funder: every strategy, the pilot share, eligibility (method,
term, grade, region) and quota exhaustion, including at signing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from fenqi.funding.errors import NoFunderAvailable, QuotaExhausted, UnknownStrategy
from fenqi.funding.routing import Candidate, Policy, Strategy, choose, in_pilot, pilot_bucket
from fenqi.funding.service import (
    add_product,
    consume_quota,
    create_funder,
    get_funder,
    quota_left,
    route,
    set_policy,
)
from tests.origination.world import TODAY, World

EI = ["equal-installment"]


def funder(session: Session, code: str, rate: str, *, daily: int = 1_000_000, monthly: int = 10_000_000,
           priority: int = 100, grade: str = "D", regions: tuple[str, ...] = (), terms: tuple[int, ...] = (6, 12),
           methods: list[str] = EI) -> None:
    create_funder(session, code=code, name=code, kind="bank", daily_quota_fen=daily, monthly_quota_fen=monthly,
                  priority=priority, regions=regions)
    add_product(session, funder_code=code, methods=methods, terms=list(terms), annual_rate=Decimal(rate),
                min_grade=grade)


def pick(session: Session, app_id: int = 1, amount: int = 100_000, grade: str = "B", region: str = "31",
         term: int = 12, method: str = "equal-installment") -> str:
    return route(session, application_id=app_id, method=method, term=term, grade=grade, region=region,
                 amount_fen=amount, on=TODAY).funder_code


def test_lowest_cost(session: Session, shop: World) -> None:
    funder(session, "DEAR", "0.09", priority=1)
    funder(session, "CHEAP", "0.05", priority=3)
    funder(session, "MID", "0.07", priority=2)
    set_policy(session, strategy="lowest_cost")
    assert pick(session) == "CHEAP"


def test_priority_list_then_priority_numbers(session: Session, shop: World) -> None:
    funder(session, "A", "0.05", priority=3)
    funder(session, "B", "0.06", priority=1)
    funder(session, "C", "0.07", priority=2)
    set_policy(session, strategy="priority", priority_list=["C"])
    assert pick(session) == "C"
    set_policy(session, strategy="priority")
    assert pick(session) == "B"


def test_quota_balancing_prefers_the_most_unused_share(session: Session, shop: World) -> None:
    funder(session, "BIG", "0.05", daily=1_000_000)
    funder(session, "SMALL", "0.09", daily=200_000)
    set_policy(session, strategy="quota_balancing")
    assert pick(session) == "BIG"  # both untouched: tie broken by code
    assert consume_quota(session, get_funder(session, "BIG"), 600_000, TODAY)  # BIG 40% left, SMALL 100%
    assert pick(session) == "SMALL"
    assert consume_quota(session, get_funder(session, "SMALL"), 150_000, TODAY)  # SMALL 25% left
    assert pick(session) == "BIG"


def test_pilot_share_is_about_ten_percent_and_deterministic(session: Session, shop: World) -> None:
    funder(session, "OLD", "0.05")
    funder(session, "NEW", "0.08")
    set_policy(session, strategy="lowest_cost", pilot_funder="NEW", pilot_share=Decimal("0.10"))
    chosen = [pick(session, app_id=i) for i in range(1, 1001)]
    assert 70 <= chosen.count("NEW") <= 130
    assert chosen == [pick(session, app_id=i) for i in range(1, 1001)]
    assert all((c == "NEW") == in_pilot(i, Decimal("0.10")) for i, c in enumerate(chosen, start=1))


def test_pilot_funder_not_eligible_falls_back(session: Session, shop: World) -> None:
    funder(session, "OLD", "0.05")
    funder(session, "NEW", "0.08", terms=(6,))
    set_policy(session, strategy="lowest_cost", pilot_funder="NEW", pilot_share=Decimal("1"))
    assert pick(session, term=12) == "OLD"
    assert pick(session, term=6) == "NEW"


def test_eligibility_by_grade_region_method_and_term(session: Session, shop: World) -> None:
    funder(session, "PRIME", "0.04", grade="B", regions=("31",))
    funder(session, "WIDE", "0.09", grade="D")
    set_policy(session, strategy="lowest_cost")
    assert pick(session, grade="A") == "PRIME"
    assert pick(session, grade="C") == "WIDE"
    assert pick(session, grade="A", region="44") == "WIDE"
    with pytest.raises(NoFunderAvailable):
        pick(session, grade="E")
    with pytest.raises(NoFunderAvailable):
        pick(session, method="flat-fee")
    with pytest.raises(NoFunderAvailable):
        pick(session, term=24)


def test_daily_quota_exhaustion_moves_to_the_next_then_refuses(session: Session, shop: World) -> None:
    funder(session, "CHEAP", "0.05", daily=300_000)
    funder(session, "DEAR", "0.09", daily=300_000)
    set_policy(session, strategy="lowest_cost")
    assert consume_quota(session, get_funder(session, "CHEAP"), 250_000, TODAY)
    assert pick(session, amount=100_000) == "DEAR"
    assert not consume_quota(session, get_funder(session, "DEAR"), 300_001, TODAY)  # never past the quota
    assert quota_left(session, get_funder(session, "DEAR"), TODAY) == (300_000, 10_000_000)
    assert consume_quota(session, get_funder(session, "DEAR"), 250_000, TODAY)
    with pytest.raises(QuotaExhausted) as refused:
        pick(session, amount=100_000)
    assert refused.value.code == "quota_exhausted"
    assert "额度" in refused.value.message("zh") and "quota" in refused.value.message("en")


def test_monthly_quota_and_all_or_nothing(session: Session, shop: World) -> None:
    funder(session, "F", "0.05", daily=500_000, monthly=600_000)
    f = get_funder(session, "F")
    assert consume_quota(session, f, 400_000, TODAY)
    from datetime import timedelta

    tomorrow = TODAY + timedelta(days=1)
    assert not consume_quota(session, f, 300_000, tomorrow)  # the day has room, the month has not
    assert quota_left(session, f, tomorrow) == (500_000, 200_000)  # nothing taken from the day either
    assert consume_quota(session, f, 200_000, tomorrow)


def test_unknown_strategy_refused(session: Session, shop: World) -> None:
    with pytest.raises(UnknownStrategy):
        set_policy(session, strategy="cheapest")


CANDIDATES = st.lists(
    st.builds(Candidate, code=st.sampled_from(list("ABCDEFG")), annual_rate=st.decimals("0.01", "0.2", places=3),
              priority=st.integers(1, 5), daily_quota_fen=st.integers(1, 10**7), daily_left_fen=st.integers(0, 10**7),
              monthly_left_fen=st.integers(0, 10**8)),
    min_size=1, max_size=6, unique_by=lambda c: c.code,
)


@given(CANDIDATES, st.sampled_from(list(Strategy)), st.integers(1, 10**9))
def test_choose_is_a_permutation_and_deterministic(cands: list[Candidate], strategy: Strategy, app_id: int) -> None:
    policy = Policy(strategy, pilot_funder=cands[-1].code, pilot_share=Decimal("0.1"))
    ranked = choose(cands, policy, app_id)
    assert sorted(c.code for c in ranked) == sorted(c.code for c in cands)
    assert ranked == choose(list(reversed(cands)), policy, app_id)
    assert 0 <= pilot_bucket(app_id) < 1
