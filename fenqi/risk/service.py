"""Credit decisions: rules, then the scorecard, then the grade, limit and allowed plans.

This first version applies only the age and student rules; the full engine replaces it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from fenqi.kit.db import utcnow
from fenqi.risk.schemas import Decision, Reason, RiskInput, RuleHit


def decide(session: Session, inp: RiskInput) -> Decision:
    """Decide one application. Does not commit; the caller's transaction does."""
    hits: list[RuleHit] = []
    if not 18 <= inp.age <= 60:
        hits.append(RuleHit(code="age_out_of_range", severity="hard", zh="年龄不在 18 至 60 岁之间",
                            en="Age is outside 18 to 60", detail={"age": inp.age}))
    if inp.is_full_time_student:
        hits.append(RuleHit(code="full_time_student", severity="hard", zh="不向全日制在校学生提供分期",
                            en="No installment credit for full-time students"))
    reasons = [Reason(code=h.code, zh=h.zh, en=h.en) for h in hits][:4]
    return Decision(
        outcome="decline" if hits else "approve",
        score=None, grade=None if hits else "C", credit_limit_fen=0 if hits else inp.financed_fen,
        reasons=reasons, rules_fired=hits, model_version="none", rules_version="none", decided_at=utcnow(),
    )
