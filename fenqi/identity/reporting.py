"""Read-only selectables for reporting (analytics): staff users' display names (clerks in the funnel)."""

from __future__ import annotations

from sqlalchemy import Subquery, select

from fenqi.identity.models import User


def staff_names() -> Subquery:
    return select(User.id.label("user_id"), User.display_name).subquery("rep_staff")
