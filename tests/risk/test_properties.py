"""Properties over generated applications: limits, determinism and the shape of every decision."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from fenqi.risk.bureau import EmulatedBureau
from fenqi.risk.engine import evaluate
from fenqi.risk.rules import DEFAULT_POLICY, Facts, credit_limit_fen
from fenqi.risk.schemas import RiskInput
from fenqi.risk.scorecard import load

incomes = st.integers(min_value=0, max_value=20_000_000)


@given(incomes, incomes)
def test_limit_within_cap_and_income_whole_hundreds_and_monotone(low: int, high: int) -> None:
    low, high = min(low, high), max(low, high)
    for grade in DEFAULT_POLICY.grades:
        limit = credit_limit_fen(grade, low)
        assert 0 <= limit <= grade.limit_cap_fen
        assert Decimal(limit) <= Decimal(low) * grade.income_multiple
        assert limit % 10_000 == 0
        assert credit_limit_fen(grade, high) >= limit


applications = st.builds(
    RiskInput,
    age=st.integers(16, 70),
    is_full_time_student=st.booleans(),
    employment=st.sampled_from(["employed", "self_employed", "civil_servant", "retired", "unemployed", "student"]),
    employment_years=st.integers(0, 40),
    monthly_income_fen=st.integers(0, 10_000_000),
    housing=st.sampled_from(["own", "mortgage", "rent", "family", "dormitory"]),
    bank_account=st.sampled_from(["none", "overdrawn", "low_balance", "salary"]),
    savings=st.sampled_from(["none", "lt_5k", "5k_20k", "20k_50k", "gt_50k"]),
    assets=st.sampled_from(["none", "car", "insurance", "real_estate"]),
    existing_loans=st.integers(0, 5),
    open_loans=st.integers(0, 5),
    financed_fen=st.integers(10_000, 5_000_000),
    installment_fen=st.integers(1_000, 1_000_000),
    term=st.sampled_from([3, 6, 12, 24]),
    product_code=st.sampled_from([None, "EI-12", "EP-10", "FEE-060", "IF-MERCHANT"]),
    id_hash=st.text("0123456789abcdef", min_size=16, max_size=16),
    phone_hash=st.just("phone-hash-property"),
)


@settings(max_examples=300, deadline=None)
@given(applications, st.integers(0, 5), st.integers(0, 5))
def test_every_decision_is_well_formed_and_deterministic(inp: RiskInput, seen_id: int, seen_device: int) -> None:
    card = load()
    facts = Facts(bureau=EmulatedBureau().report(inp.id_hash), velocity={"id": seen_id, "device": seen_device})
    first = evaluate(inp, facts, DEFAULT_POLICY, card)
    assert evaluate(inp, facts, DEFAULT_POLICY, card) == first
    assert first.score == card.base_points + sum(first.points.values())
    assert 1 <= len(first.reasons) <= 4 or first.outcome == "approve"
    assert len(first.reasons) <= 4 and len({r.code for r in first.reasons}) == len(first.reasons)
    hard = any(h.severity == "hard" for h in first.rules_fired)
    assert (first.outcome == "decline") == (hard or first.grade is None)
    if first.outcome == "decline":
        assert first.credit_limit_fen == 0 and first.allowed_plans == []
    if first.outcome == "approve":
        assert first.rules_fired == [] and inp.financed_fen <= first.credit_limit_fen
    if inp.age < 18 or inp.age > 60 or inp.is_full_time_student:
        assert first.outcome == "decline"
