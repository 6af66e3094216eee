"""The credit policy as data: rules (hard = decline, soft = refer), score cut-offs and the grade table
(credit limit and allowed plans per risk grade). A policy has a version; a stored decision names the
version it was made under, and versions are never edited, only superseded (fenqi.risk.policy).

Each rule names a `kind` (a check below) with its own parameters, so a risk officer can change a
threshold, a severity or switch a rule off by publishing a new version, without a code change.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fenqi.risk.bureau import BureauReport
from fenqi.risk.features import installment_ratio
from fenqi.risk.reasons import rule_reason
from fenqi.risk.schemas import AllowedPlan, Grade, RiskInput, RuleHit, Severity


class Facts(BaseModel):
    """What the engine looked up for a decision; stored with it so a re-run sees the same world."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bureau: BureauReport | None = None  # None: the bureau did not answer
    blacklist: list[str] = Field(default_factory=list)  # which identifiers are listed: id, phone, device
    velocity: dict[str, int] = Field(default_factory=dict)  # earlier decisions in the window: id, phone, device


class RuleSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    kind: str
    severity: Severity
    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict)


class GradeSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    grade: Grade
    min_score: int
    outcome: str = "approve"  # "approve" or "refer": the lowest band goes to manual review
    limit_cap_fen: int = Field(ge=0)
    income_multiple: Decimal = Field(ge=0)  # the limit is at most this many months of income
    plans: list[AllowedPlan]


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=40)
    rules: list[RuleSpec]
    decline_below: int  # scores under this are declined
    grades: list[GradeSpec]  # highest first
    velocity_window_minutes: int = Field(60, gt=0)

    @model_validator(mode="after")
    def _check(self) -> Policy:
        unknown = [r.kind for r in self.rules if r.kind not in CHECKS]
        if unknown:
            raise ValueError(f"unknown rule kinds: {', '.join(unknown)}")
        codes = [r.code for r in self.rules]
        if len(codes) != len(set(codes)):
            raise ValueError("rule codes must be unique")
        scores = [g.min_score for g in self.grades]
        if not scores or scores != sorted(scores, reverse=True) or scores[-1] < self.decline_below:
            raise ValueError("grades must be ordered from the highest min_score down, all above decline_below")
        return self

    def grade_for(self, score: int) -> GradeSpec | None:
        return next((g for g in self.grades if score >= g.min_score), None)


# --- the checks: (input, facts, params) → details when the rule fires, None otherwise -------------

Check = Callable[[RiskInput, Facts, dict[str, Any]], dict[str, Any] | None]


def _age_range(inp: RiskInput, facts: Facts, p: dict[str, Any]) -> dict[str, Any] | None:
    low, high = int(p.get("min", 18)), int(p.get("max", 60))
    return None if low <= inp.age <= high else {"age": inp.age, "min": low, "max": high}


def _student(inp: RiskInput, facts: Facts, p: dict[str, Any]) -> dict[str, Any] | None:
    return {} if inp.is_full_time_student or inp.employment == "student" else None


def _blacklist(inp: RiskInput, facts: Facts, p: dict[str, Any]) -> dict[str, Any] | None:
    return {"listed": facts.blacklist} if facts.blacklist else None


def _open_loans(inp: RiskInput, facts: Facts, p: dict[str, Any]) -> dict[str, Any] | None:
    elsewhere = max(inp.existing_loans, facts.bureau.open_loans if facts.bureau else 0)
    total = inp.open_loans + elsewhere
    limit = int(p.get("max", 3))
    return {"open_loans": total, "max": limit} if total > limit else None


def _velocity(key: str) -> Check:
    def check(inp: RiskInput, facts: Facts, p: dict[str, Any]) -> dict[str, Any] | None:
        seen = facts.velocity.get(key, 0)
        limit = int(p.get("max", 3))
        # The current application is one more on top of those already seen in the window.
        return {"applications": seen + 1, "max": limit} if seen + 1 > limit else None

    return check


def _installment_to_income(inp: RiskInput, facts: Facts, p: dict[str, Any]) -> dict[str, Any] | None:
    ratio = installment_ratio(inp)
    limit = Decimal(str(p.get("max_ratio", "0.5")))
    if ratio is None or ratio <= limit:
        return None
    return {"ratio": str(ratio.quantize(Decimal("0.0001"), rounding=ROUND_DOWN)), "max_ratio": str(limit)}


def _no_income(inp: RiskInput, facts: Facts, p: dict[str, Any]) -> dict[str, Any] | None:
    return {} if inp.monthly_income_fen <= 0 else None


def _bureau_overdue(inp: RiskInput, facts: Facts, p: dict[str, Any]) -> dict[str, Any] | None:
    return {} if facts.bureau is not None and facts.bureau.overdue_now else None


def _bureau_delinquency(inp: RiskInput, facts: Facts, p: dict[str, Any]) -> dict[str, Any] | None:
    limit = int(p.get("max_dpd", 30))
    dpd = facts.bureau.max_dpd_24m if facts.bureau is not None else 0
    return {"max_dpd_24m": dpd, "max_dpd": limit} if dpd > limit else None


def _bureau_inquiries(inp: RiskInput, facts: Facts, p: dict[str, Any]) -> dict[str, Any] | None:
    limit = int(p.get("max", 5))
    n = facts.bureau.inquiries_6m if facts.bureau is not None else 0
    return {"inquiries_6m": n, "max": limit} if n > limit else None


def _bureau_missing(inp: RiskInput, facts: Facts, p: dict[str, Any]) -> dict[str, Any] | None:
    return {} if facts.bureau is None else None


CHECKS: dict[str, Check] = {
    "age_range": _age_range,
    "full_time_student": _student,
    "blacklist": _blacklist,
    "open_loans": _open_loans,
    "velocity_id": _velocity("id"),
    "velocity_phone": _velocity("phone"),
    "velocity_device": _velocity("device"),
    "installment_to_income": _installment_to_income,
    "no_income": _no_income,
    "bureau_overdue": _bureau_overdue,
    "bureau_delinquency": _bureau_delinquency,
    "bureau_inquiries": _bureau_inquiries,
    "bureau_missing": _bureau_missing,
}


def run_rules(policy: Policy, inp: RiskInput, facts: Facts) -> list[RuleHit]:
    fired: list[tuple[RuleSpec, RuleHit]] = []
    for rule in policy.rules:
        if not rule.enabled:
            continue
        detail = CHECKS[rule.kind](inp, facts, rule.params)
        if detail is not None:
            zh, en = rule_reason(rule.code)
            fired.append((rule, RuleHit(code=rule.code, severity=rule.severity, zh=zh, en=en, detail=detail)))
    # A soft rule adds nothing when a hard rule of the same kind fired (a ratio above both thresholds).
    hard_kinds = {rule.kind for rule, hit in fired if hit.severity == "hard"}
    hits = [hit for rule, hit in fired if hit.severity == "hard" or rule.kind not in hard_kinds]
    # Hard rules first, each group in policy order: the first reasons given are the decisive ones.
    return sorted(hits, key=lambda h: h.severity != "hard")


def credit_limit_fen(grade: GradeSpec, monthly_income_fen: int) -> int:
    """The lesser of the grade's cap and a multiple of monthly income, rounded down to 100 yuan."""
    by_income = int((Decimal(monthly_income_fen) * grade.income_multiple).to_integral_value(rounding=ROUND_DOWN))
    return min(grade.limit_cap_fen, by_income) // 10_000 * 10_000


def _plans(spec: dict[str, list[int]]) -> list[AllowedPlan]:
    return [AllowedPlan(product_code=code, terms=terms) for code, terms in spec.items()]


DEFAULT_POLICY = Policy(
    version="2026.11.1",
    rules=[
        RuleSpec(code="age_out_of_range", kind="age_range", severity="hard", params={"min": 18, "max": 60}),
        RuleSpec(code="full_time_student", kind="full_time_student", severity="hard"),
        RuleSpec(code="blacklisted", kind="blacklist", severity="hard"),
        RuleSpec(code="no_income", kind="no_income", severity="hard"),
        RuleSpec(code="too_many_open_loans", kind="open_loans", severity="hard", params={"max": 3}),
        RuleSpec(code="velocity_id", kind="velocity_id", severity="hard", params={"max": 3}),
        RuleSpec(code="velocity_phone", kind="velocity_phone", severity="hard", params={"max": 3}),
        RuleSpec(code="velocity_device", kind="velocity_device", severity="soft", params={"max": 2}),
        RuleSpec(code="installment_to_income", kind="installment_to_income", severity="hard",
                 params={"max_ratio": "0.50"}),
        RuleSpec(code="installment_to_income_review", kind="installment_to_income", severity="soft",
                 params={"max_ratio": "0.35"}),
        RuleSpec(code="bureau_overdue", kind="bureau_overdue", severity="hard"),
        RuleSpec(code="bureau_recent_delinquency", kind="bureau_delinquency", severity="soft", params={"max_dpd": 60}),
        RuleSpec(code="bureau_inquiries", kind="bureau_inquiries", severity="soft", params={"max": 5}),
        RuleSpec(code="bureau_unavailable", kind="bureau_missing", severity="soft"),
    ],
    decline_below=480,
    grades=[
        GradeSpec(grade="A", min_score=560, limit_cap_fen=3_000_000, income_multiple=Decimal(6), plans=_plans(
            {"EI-12": [3, 6, 12, 24], "EP-10": [6, 12, 24], "FEE-060": [3, 6, 12, 24], "IF-MERCHANT": [3, 6, 12]})),
        GradeSpec(grade="B", min_score=540, limit_cap_fen=2_000_000, income_multiple=Decimal(5), plans=_plans(
            {"EI-12": [3, 6, 12, 24], "EP-10": [6, 12, 24], "FEE-060": [3, 6, 12], "IF-MERCHANT": [3, 6, 12]})),
        GradeSpec(grade="C", min_score=520, limit_cap_fen=1_200_000, income_multiple=Decimal(4), plans=_plans(
            {"EI-12": [3, 6, 12], "FEE-060": [3, 6, 12], "IF-MERCHANT": [3, 6]})),
        GradeSpec(grade="D", min_score=500, limit_cap_fen=800_000, income_multiple=Decimal(3), plans=_plans(
            {"EI-12": [3, 6], "FEE-060": [3, 6], "IF-MERCHANT": [3]})),
        GradeSpec(grade="E", min_score=480, outcome="refer", limit_cap_fen=500_000, income_multiple=Decimal(2),
                  plans=_plans({"EI-12": [3, 6]})),
    ],
)
