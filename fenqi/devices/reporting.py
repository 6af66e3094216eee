"""Read-only selectables for reporting (analytics): when each financed phone was handed over (its lock
record is created at handover)."""

from __future__ import annotations

from sqlalchemy import Subquery, func, select

from fenqi.devices.models import LockDevice


def handovers() -> Subquery:
    return (select(LockDevice.loan_id, func.min(LockDevice.created_at).label("handed_over_at"))
            .group_by(LockDevice.loan_id).subquery("rep_handovers"))
