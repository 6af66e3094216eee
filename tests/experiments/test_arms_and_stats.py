"""Arms by a stable hash (same shopper, same arm; balanced by weight; independent between experiments), the
arms' validation, and the two-proportion z-test against values worked out by hand."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from fenqi.experiments.arms import Arm, arm_for, parse_arms
from fenqi.experiments.errors import InvalidExperiment
from fenqi.experiments.stats import two_proportion_z

TWO = [Arm("A", 50, "term_asc", "recommended"), Arm("B", 50, "term_desc", "none")]
THREE = [Arm("A", 20, "term_asc", "none"), Arm("B", 30, "term_desc", "cheapest"),
         Arm("C", 50, "recommended_first", "recommended")]
IDS = [f"u:{n}" for n in range(1, 20_001)]


def test_a_shopper_always_gets_the_same_arm_and_arms_follow_their_weights() -> None:
    first = [arm_for("MENU-1", s, TWO).code for s in IDS[:500]]
    assert first == [arm_for("MENU-1", s, TWO).code for s in IDS[:500]]  # stable, call after call
    two = Counter(arm_for("MENU-1", s, TWO).code for s in IDS)
    assert abs(two["A"] / len(IDS) - 0.5) < 0.015 and two["A"] + two["B"] == len(IDS)
    three = Counter(arm_for("MENU-2", s, THREE).code for s in IDS)
    for arm in THREE:
        assert abs(three[arm.code] / len(IDS) - arm.weight / 100) < 0.015, three
    # Independent across experiments: being in A of one says nothing of the other (about a quarter in both).
    both = sum(1 for s in IDS if arm_for("MENU-1", s, TWO).code == "A" == arm_for("MENU-3", s, TWO).code)
    assert abs(both / len(IDS) - 0.25) < 0.015
    # The experiment's code is part of the hash: the same shopper does not always land in the same arm.
    assert [arm_for("MENU-1", s, TWO).code for s in IDS[:200]] != [arm_for("MENU-3", s, TWO).code for s in IDS[:200]]


@pytest.mark.parametrize("arms", [
    [{"code": "A", "weight": 1, "order": "term_asc", "highlight": "none"}],  # one arm
    [{"code": "A", "weight": 1, "order": "term_asc", "highlight": "none"}] * 2,  # same code twice
    [{"code": "A", "weight": 0, "order": "term_asc", "highlight": "none"},
     {"code": "B", "weight": 1, "order": "term_asc", "highlight": "none"}],  # zero weight
    [{"code": "A", "weight": 1, "order": "random", "highlight": "none"},
     {"code": "B", "weight": 1, "order": "term_asc", "highlight": "none"}],  # unknown order
    [{"code": "A b", "weight": 1, "order": "term_asc", "highlight": "none"},
     {"code": "B", "weight": 1, "order": "term_asc", "highlight": "term_9"}],  # bad code, unknown highlight
])
def test_bad_arms_are_refused_in_both_languages(arms: list[dict[str, object]]) -> None:
    with pytest.raises(InvalidExperiment) as caught:
        parse_arms(arms)
    assert caught.value.message("zh").startswith("实验设置有误") and caught.value.message("en").startswith("Invalid")


def test_two_proportion_z_test_by_hand() -> None:
    # 30/200 vs 50/200: pooled 0.2, se = √(0.2·0.8·(1/200 + 1/200)) = 0.04, z = 0.10 / 0.04 = 2.5,
    # p = 2·(1 − Φ(2.5)) = 2 × 0.00621 = 0.0124 (normal table).
    test = two_proportion_z(30, 200, 50, 200)
    assert test is not None and test.z == Decimal("2.5000") and test.p_value == Decimal("0.0124") and test.significant
    # The other way round: the same p, z negative.
    back = two_proportion_z(50, 200, 30, 200)
    assert back is not None and back.z == Decimal("-2.5000") and back.p_value == Decimal("0.0124")
    # Equal rates: z 0, p 1; nothing to test on an empty arm or when every shopper converted in both.
    same = two_proportion_z(10, 100, 20, 200)
    assert same is not None and same.z == 0 and same.p_value == 1 and not same.significant
    assert two_proportion_z(0, 0, 1, 10) is None and two_proportion_z(5, 5, 7, 7) is None
