"""Read-only selectables for reporting (analytics): when each decision was made (after manual review,
the reviewer's time), without the inputs or scores."""

from __future__ import annotations

from sqlalchemy import Subquery, case, select

from fenqi.risk.models import RiskDecision


def decisions() -> Subquery:
    d = RiskDecision
    final = case((d.review_status.in_(("approved", "declined")), d.reviewed_at), (d.outcome != "refer", d.decided_at),
                 else_=None)
    return select(d.id.label("decision_id"), d.application_id, d.outcome, d.review_status,
                  final.label("decided_at")).where(d.training.is_(False)).subquery("rep_decisions")
