"""Demo data for the dashboards and consoles: a past of walk-in sales lived through the real services."""

from __future__ import annotations

import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.demo.history import build_history
from fenqi.origination import reporting as origination_rep


def seed(session: Session) -> list[str]:
    if session.scalar(select(origination_rep.applications().c.application_id).limit(1)) is not None:
        return ["history: applications already present"]
    days = int(os.environ.get("FENQI_DEMO_HISTORY_DAYS", "180"))
    if days <= 0:
        return ["history: skipped (FENQI_DEMO_HISTORY_DAYS=0)"]
    return [build_history(session, days=days, per_day=2.1).line()]
