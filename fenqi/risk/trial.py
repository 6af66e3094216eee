"""Would the rules approve another plan? A declined application tried again on other plans (a higher
down payment, a longer term, a cheaper phone) with the rules and model in force — the same `evaluate`
a submission runs — and nothing stored: a trial is not an application and counts for no velocity rule.

The facts are those a new submission would meet: the risk list and the velocity counts read now (the
declined decision itself among them), the bureau's report the declined decision stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from fenqi.kit.db import utcnow
from fenqi.risk import scorecard
from fenqi.risk.engine import evaluate
from fenqi.risk.models import RiskDecision
from fenqi.risk.rules import Facts, Policy
from fenqi.risk.schemas import RiskInput
from fenqi.risk.service import DecisionNotFound, gather


def would_approve(
    session: Session, decision_id: int, variants: Sequence[RiskInput], *, now: datetime | None = None
) -> list[bool]:
    """For each variant of a decided application, whether a submission of it would be approved outright
    (not referred: a suggestion must not lead to a wait). Variants carry no application id."""
    row = session.get(RiskDecision, decision_id)
    if row is None:
        raise DecisionNotFound(str(decision_id))
    bureau = Facts.model_validate(row.facts).bureau
    card = scorecard.load()
    moment = now or utcnow()
    seen: dict[str | None, tuple[Policy, Facts]] = {}  # by device: the only fact a variant can change
    answers = []
    for variant in variants:
        if variant.device_imei not in seen:
            seen[variant.device_imei] = gather(session, variant, moment, bureau=bureau)
        policy, facts = seen[variant.device_imei]
        answers.append(evaluate(variant, facts, policy, card).outcome == "approve")
    return answers
