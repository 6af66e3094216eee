"""Read-only figures of after-sales cases for other parts (a training store's checklist)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.aftersales.models import AftersalesCase


def decided_by_staff(session: Session, merchant_id: int, since: datetime | None) -> list[tuple[int, str]]:
    """(staff user id, outcome) of every case of one merchant decided at its desk (since a time)."""
    c = AftersalesCase
    q = select(c.decided_by, c.outcome).where(c.merchant_id == merchant_id, c.decided_by.is_not(None),
                                              c.outcome.is_not(None))
    if since is not None:
        q = q.where(c.decided_at >= since)
    return [(int(uid or 0), str(outcome)) for uid, outcome in session.execute(q)]
