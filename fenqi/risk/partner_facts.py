"""A port for the partner scorecard: when each credit decision was final (a DTO-free mapping)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.risk.models import RiskDecision


def decision_times(session: Session, decision_ids: Iterable[int]) -> dict[int, datetime]:
    """Decision id → when it became final: the review's time for a referred application, else the decision's."""
    ids = sorted(set(decision_ids))
    found: dict[int, datetime] = {}
    for chunk in range(0, len(ids), 500):
        rows = session.execute(select(RiskDecision.id, RiskDecision.decided_at, RiskDecision.reviewed_at)
                               .where(RiskDecision.id.in_(ids[chunk:chunk + 500]))).all()
        for row in rows:
            found[row.id] = row.reviewed_at or row.decided_at
    return found
