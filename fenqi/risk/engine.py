"""The decision itself, as a pure function of the input, the looked-up facts, the policy and the model.

No database, no clock: the same four things always give the same decision, which is what makes a
stored decision reproducible (fenqi.risk.service.replay).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from fenqi.risk.bureau import BureauReport
from fenqi.risk.features import Value, model_features
from fenqi.risk.reasons import rule_reason
from fenqi.risk.rules import Facts, Policy, credit_limit_fen, run_rules
from fenqi.risk.schemas import AllowedPlan, Grade, Outcome, Reason, RiskInput, RuleHit
from fenqi.risk.scorecard import Scorecard

MAX_REASONS = 4

# When the bureau did not answer, the report is scored as the riskiest credit history (the score's
# default for the unknown) and the decision is referred by the `bureau_missing` rule.
_NO_BUREAU = BureauReport(provider="none", credit_history="no_credit")


@dataclass(frozen=True, slots=True)
class Evaluation:
    outcome: Outcome
    score: int
    probability_of_default: Decimal
    grade: Grade | None
    credit_limit_fen: int
    allowed_plans: list[AllowedPlan]
    reasons: list[Reason]
    rules_fired: list[RuleHit]
    points: dict[str, int] = field(default_factory=dict)
    bins: dict[str, str] = field(default_factory=dict)


def features_of(inp: RiskInput, facts: Facts) -> dict[str, Value]:
    """The scorecard's feature values of an application, as the decision scored them."""
    return model_features(inp, facts.bureau or _NO_BUREAU)


def _step(code: str, severity: str = "soft") -> RuleHit:
    zh, en = rule_reason(code)
    return RuleHit(code=code, severity="hard" if severity == "hard" else "soft", zh=zh, en=en)


def evaluate(inp: RiskInput, facts: Facts, policy: Policy, card: Scorecard) -> Evaluation:
    hits = run_rules(policy, inp, facts)
    scored = card.score(features_of(inp, facts))
    grade = policy.grade_for(scored.score)
    outcome: Outcome
    if any(h.severity == "hard" for h in hits):
        outcome = "decline"
    elif grade is None:
        outcome = "decline"
        hits.append(_step("score_below_cutoff", "hard"))
    else:
        outcome = "refer" if hits or grade.outcome == "refer" else "approve"
        if grade.outcome == "refer":
            hits.append(_step("score_review_band"))
    limit = credit_limit_fen(grade, inp.monthly_income_fen) if grade is not None and outcome != "decline" else 0
    plans = list(grade.plans) if grade is not None and outcome != "decline" else []
    if outcome == "approve":
        # Creditworthy, but not for what was asked: a person looks at a counter-offer.
        if inp.financed_fen > limit:
            hits.append(_step("amount_above_limit"))
        if inp.product_code is not None and not any(
            p.product_code == inp.product_code and inp.term in p.terms for p in plans
        ):
            hits.append(_step("plan_not_allowed"))
        if hits:
            outcome = "refer"
    reasons = [Reason(code=h.code, zh=h.zh, en=h.en) for h in hits]
    reasons += [r for r in scored.reasons if r.code not in {x.code for x in reasons}]
    return Evaluation(
        outcome=outcome,
        score=scored.score,
        probability_of_default=scored.probability_of_default,
        grade=grade.grade if grade is not None else None,
        credit_limit_fen=limit,
        allowed_plans=plans,
        reasons=reasons[:MAX_REASONS],
        rules_fired=hits,
        points=scored.points,
        bins=scored.bins,
    )
