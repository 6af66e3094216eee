"""Applications as the staff consoles list them: by id for a review queue, and a merchant's newest.
Pages read applications here rather than querying origination's table themselves."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.origination.models import Application


def applications_by_id(session: Session, ids: Iterable[int]) -> dict[int, Application]:
    """The applications with these ids, by id (those that do not exist are left out), in one query."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(wanted)))}


def merchant_applications(session: Session, merchant_id: int, status: str = "", limit: int = 100) -> list[Application]:
    """A merchant's newest applications, of one status when `status` is given."""
    query = select(Application).where(Application.merchant_id == merchant_id)
    if status:
        query = query.where(Application.status == status)
    return list(session.scalars(query.order_by(Application.id.desc()).limit(limit)))
