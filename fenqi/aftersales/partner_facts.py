"""A port for the partner scorecard: complaints filed over a window, with the loan they are about (DTOs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.aftersales.models import Complaint


@dataclass(frozen=True, slots=True)
class ComplaintFact:
    loan_id: int | None
    category: str
    filed_at: datetime
    resolved_at: datetime | None


def complaints(session: Session, start: datetime, end: datetime) -> list[ComplaintFact]:
    rows = session.scalars(select(Complaint).where(Complaint.created_at >= start, Complaint.created_at < end)
                           .order_by(Complaint.id)).all()
    return [ComplaintFact(r.loan_id, r.category, r.created_at, r.resolved_at) for r in rows]
