"""Each rule, the score cut-offs and the grade table, through the pure engine."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fenqi.risk.bureau import BureauReport
from fenqi.risk.engine import evaluate
from fenqi.risk.rules import DEFAULT_POLICY, Facts, Policy, credit_limit_fen
from fenqi.risk.schemas import RiskInput
from fenqi.risk.scorecard import load

MakeInput = Callable[..., RiskInput]
CLEAN = BureauReport(provider="test", credit_history="credit_elsewhere")


def run(inp: RiskInput, facts: Facts | None = None, policy: Policy = DEFAULT_POLICY):  # type: ignore[no-untyped-def]
    return evaluate(inp, facts or Facts(bureau=CLEAN), policy, load())


def codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.code for h in result.rules_fired]


def test_a_good_application_is_approved_with_grade_limit_and_plans(make_input: MakeInput) -> None:
    result = run(make_input())
    assert result.outcome == "approve", result
    assert result.rules_fired == []
    assert result.grade == "A"
    # Grade A: the lesser of ¥30,000 and 6 × ¥12,000 income.
    assert result.credit_limit_fen == 3_000_000
    assert {p.product_code for p in result.allowed_plans} == {"EI-12", "EP-10", "FEE-060", "IF-MERCHANT"}
    assert len(result.reasons) <= 4


@pytest.mark.parametrize(("age", "declined"), [(17, True), (18, False), (60, False), (61, True)])
def test_age_range_is_inclusive_18_to_60(make_input: MakeInput, age: int, declined: bool) -> None:
    result = run(make_input(age=age))
    assert ("age_out_of_range" in codes(result)) is declined
    assert (result.outcome == "decline") is declined
    if declined:
        assert result.reasons[0].code == "age_out_of_range"
        assert result.credit_limit_fen == 0 and result.allowed_plans == []


def test_age_range_is_configurable(make_input: MakeInput) -> None:
    rules = [r.model_copy(update={"params": {"min": 22, "max": 55}}) if r.kind == "age_range" else r
             for r in DEFAULT_POLICY.rules]
    policy = DEFAULT_POLICY.model_copy(update={"version": "t-age", "rules": rules})
    assert run(make_input(age=21), policy=policy).outcome == "decline"
    assert run(make_input(age=21)).outcome == "approve"


@pytest.mark.parametrize("changes", [{"is_full_time_student": True}, {"employment": "student"}])
def test_full_time_students_are_declined(make_input: MakeInput, changes: dict[str, object]) -> None:
    result = run(make_input(**changes))
    assert result.outcome == "decline"
    assert result.reasons[0].code == "full_time_student"
    assert "学生" in result.reasons[0].zh and "student" in result.reasons[0].en


@pytest.mark.parametrize("kind", ["id", "phone", "device"])
def test_a_listed_identifier_is_declined(make_input: MakeInput, kind: str) -> None:
    result = run(make_input(), Facts(bureau=CLEAN, blacklist=[kind]))
    assert result.outcome == "decline"
    assert codes(result) == ["blacklisted"]


def test_too_many_open_loans_counts_ours_and_the_bureaus(make_input: MakeInput) -> None:
    assert run(make_input(open_loans=3)).outcome == "approve"
    assert "too_many_open_loans" in codes(run(make_input(open_loans=4)))
    with_others = BureauReport(provider="test", credit_history="credit_elsewhere", open_loans=2)
    assert "too_many_open_loans" in codes(run(make_input(open_loans=2), Facts(bureau=with_others)))


@pytest.mark.parametrize(("key", "code", "severity"), [
    ("id", "velocity_id", "hard"), ("phone", "velocity_phone", "hard"), ("device", "velocity_device", "soft"),
])
def test_velocity_per_identifier(make_input: MakeInput, key: str, code: str, severity: str) -> None:
    limit = next(int(r.params["max"]) for r in DEFAULT_POLICY.rules if r.code == code)
    below = run(make_input(), Facts(bureau=CLEAN, velocity={key: limit - 1}))
    assert code not in codes(below)
    above = run(make_input(), Facts(bureau=CLEAN, velocity={key: limit}))
    assert code in codes(above)
    assert above.outcome == ("decline" if severity == "hard" else "refer")


@pytest.mark.parametrize(("installment", "outcome", "code"), [
    (420_000, "approve", None),  # 35% of ¥12,000: at the review threshold, not above it
    (420_100, "refer", "installment_to_income_review"),
    (600_000, "refer", "installment_to_income_review"),  # 50%: at the decline threshold
    (600_100, "decline", "installment_to_income"),
])
def test_installment_to_income(make_input: MakeInput, installment: int, outcome: str, code: str | None) -> None:
    result = run(make_input(installment_fen=installment, financed_fen=300_000))
    fired = [c for c in codes(result) if c.startswith("installment_to_income")]
    assert fired == ([code] if code else [])
    assert result.outcome == outcome


def test_no_income_is_declined(make_input: MakeInput) -> None:
    assert "no_income" in codes(run(make_input(monthly_income_fen=0)))


def test_bureau_rules(make_input: MakeInput) -> None:
    overdue = BureauReport(provider="t", credit_history="current_ok", overdue_now=True, max_dpd_24m=40)
    assert run(make_input(), Facts(bureau=overdue)).outcome == "decline"
    late = BureauReport(provider="t", credit_history="past_delays", max_dpd_24m=75)
    assert "bureau_recent_delinquency" in codes(run(make_input(), Facts(bureau=late)))
    shopping = BureauReport(provider="t", credit_history="credit_elsewhere", inquiries_6m=6)
    assert run(make_input(), Facts(bureau=shopping)).outcome == "refer"


def test_no_bureau_answer_refers_and_scores_conservatively(make_input: MakeInput) -> None:
    with_bureau = run(make_input())
    without = run(make_input(), Facts(bureau=None))
    assert without.outcome == "refer"
    assert "bureau_unavailable" in codes(without)
    assert without.score < with_bureau.score


def test_soft_and_hard_together_decline_with_hard_reasons_first(make_input: MakeInput) -> None:
    result = run(make_input(age=17), Facts(bureau=CLEAN, velocity={"device": 5}))
    assert result.outcome == "decline"
    assert [h.severity for h in result.rules_fired] == ["hard", "soft"]


def test_disabled_rule_does_not_fire(make_input: MakeInput) -> None:
    rules = [r.model_copy(update={"enabled": False}) if r.code == "full_time_student" else r
             for r in DEFAULT_POLICY.rules]
    policy = DEFAULT_POLICY.model_copy(update={"version": "t-off", "rules": rules})
    assert "full_time_student" not in codes(run(make_input(is_full_time_student=True), policy=policy))


def test_low_scores_are_declined_and_the_lowest_band_referred(make_input: MakeInput) -> None:
    weak = make_input(bank_account="overdrawn", savings="lt_5k", assets="none", employment_years=0,
                      housing="rent", term=24, age=23, existing_loans=1, financed_fen=1_500_000,
                      installment_fen=70_000, product_code=None)
    result = run(weak, Facts(bureau=BureauReport(provider="t", credit_history="no_credit")))
    assert result.score < DEFAULT_POLICY.decline_below
    assert result.outcome == "decline" and result.grade is None
    assert result.reasons[0].code == "score_below_cutoff"
    assert [r.code for r in result.reasons[1:]] and all(r.code.startswith("S") for r in result.reasons[1:])
    for score in range(DEFAULT_POLICY.decline_below, DEFAULT_POLICY.decline_below + 20):
        assert DEFAULT_POLICY.grade_for(score).grade == "E"  # type: ignore[union-attr]


def test_amount_above_limit_and_plan_not_allowed_are_referred(make_input: MakeInput) -> None:
    big = run(make_input(financed_fen=3_100_000, installment_fen=280_000))
    assert big.outcome == "refer" and "amount_above_limit" in codes(big)
    assert big.credit_limit_fen == 3_000_000  # the counter-offer stays visible
    odd = run(make_input(product_code="EP-10", term=3))
    assert odd.outcome == "refer" and "plan_not_allowed" in codes(odd)


def test_limit_is_the_lesser_of_cap_and_income_multiple_in_whole_hundreds() -> None:
    grade_c = next(g for g in DEFAULT_POLICY.grades if g.grade == "C")
    assert credit_limit_fen(grade_c, 1_000_000) == 1_200_000  # cap ¥12,000 < 4 × ¥10,000
    assert credit_limit_fen(grade_c, 123_456) == 490_000  # 4 × ¥1,234.56 = ¥4,938.24 → ¥4,900


def test_policy_refuses_unknown_kinds_and_disordered_grades() -> None:
    data = DEFAULT_POLICY.model_dump(mode="json")
    with pytest.raises(ValueError, match="unknown rule kinds"):
        Policy.model_validate({**data, "rules": [{"code": "x", "kind": "astrology", "severity": "hard"}]})
    with pytest.raises(ValueError, match="ordered"):
        Policy.model_validate({**data, "grades": list(reversed(data["grades"]))})
