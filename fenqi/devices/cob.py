"""The lock policy at close-of-business: one chunk step, set-based, over the loans of the chunk.

Runs in the chunk's transaction after servicing's own steps, so the loans' status and dpd are the
day's. It reads servicing's `loan` table by its published columns (id, status, dpd) in SQL — the one
place the lock looks at loans in bulk — and applies the rules of fenqi.devices.policy.decide in this
order: releases (payoff, return), cures, unlocks below the lock threshold, reminders, warnings (one
row at a time: each queues a message), locks. Every change writes its history row in the same
statement pair. Idempotent per (device, day): a retried chunk finds nothing left to change.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, TextClause, bindparam, text
from sqlalchemy.orm import Session

from fenqi.devices.models import LockDevice
from fenqi.devices.service import _warn, push_unlock
from fenqi.devices.settings import device_settings
from fenqi.kit.db import UtcDateTime, utcnow

_JOIN = "FROM device_lock d JOIN loan l ON l.id = d.loan_id WHERE d.loan_id BETWEEN :lo AND :hi AND "

# (reason, target state, predicate, extra SET clause)
_MOVES: tuple[tuple[str, str, str, str], ...] = (
    ("payoff", "released", "d.state <> 'released' AND d.release_held = :no AND l.status = 'paid_off'",
     "released_at = :now, released_for = 'payoff', release_cancel_until = :cancel_until"),
    ("return", "released", "d.state <> 'released' AND l.status = 'cancelled'",
     "released_at = :now, released_for = 'return', release_cancel_until = :now"),
    ("cob", "normal", "d.state IN ('reminder', 'locked') AND l.status = 'active'",
     "warned_at = NULL, warned_on = NULL, lock_allowed_at = NULL"),
    ("cob", "reminder", "d.state = 'locked' AND l.status = 'overdue' AND l.dpd < d.lock_after_dpd", ""),
    ("cob", "reminder", "d.state = 'normal' AND l.status = 'overdue'", ""),
)
_LOCK = ("cob", "locked", "d.state = 'reminder' AND d.lock_enabled = :yes AND l.status = 'overdue' "
         "AND l.dpd >= d.lock_after_dpd AND d.lock_allowed_at IS NOT NULL AND d.lock_allowed_at <= :now",
         "locked_at = :now")
_WARN = ("SELECT d.id " + _JOIN + "d.state IN ('normal', 'reminder') AND d.lock_enabled = :yes AND d.warned_at IS NULL "
         "AND l.status = 'overdue' AND l.dpd >= d.lock_after_dpd - 1 AND l.dpd >= 1 ORDER BY d.id")


_TYPES: dict[str, Any] = {"now": UtcDateTime(), "cancel_until": UtcDateTime(), "day": Date()}


def _sql(sql: str) -> TextClause:
    """Typed timestamps: SQLite keeps them as text, which compares right only in the column's format."""
    return text(sql).bindparams(*(bindparam(k, type_=t) for k, t in _TYPES.items() if f":{k}" in sql))


def _move(session: Session, params: dict[str, Any], reason: str, target: str, where: str, extra: str) -> int:
    ids = [r[0] for r in session.execute(_sql("SELECT d.id " + _JOIN + where), params)]
    if not ids:
        return 0
    session.execute(_sql(
        "INSERT INTO device_lock_event (device_id, loan_id, kind, from_state, to_state, reason, business_date, "
        "detail, at) SELECT d.id, d.loan_id, 'state', d.state, :target, :reason, :day, '', :now "
        + _JOIN + where), {**params, "target": target, "reason": reason})
    sets = f"state = :target, updated_at = :now{', ' + extra if extra else ''}"
    session.execute(_sql(f"UPDATE device_lock SET {sets} WHERE id IN (SELECT d.id {_JOIN}{where})"),
                    {**params, "target": target})
    return len(ids)


def lock_step(session: Session, day: date, lo_id: int, hi_id: int, *, now: datetime | None = None) -> int:
    """Apply the lock policy to the chunk's devices; returns the number of devices changed or warned."""
    now = now or utcnow()
    cancel_until = now + timedelta(minutes=device_settings().release_cancel_minutes)
    params: dict[str, Any] = {"lo": lo_id, "hi": hi_id, "now": now, "day": day, "yes": True, "no": False,
                              "cancel_until": cancel_until}
    session.flush()
    unlocking = [r[0] for r in session.execute(_sql(
        "SELECT d.id " + _JOIN + "d.state = 'locked' AND ((l.status = 'paid_off' AND d.release_held = :no) "
        "OR l.status IN ('cancelled', 'active') "
        "OR (l.status = 'overdue' AND l.dpd < d.lock_after_dpd))"), params)]
    changed = sum(_move(session, params, *m) for m in _MOVES)
    warned = [r[0] for r in session.execute(_sql(_WARN), params)]
    for device_id in warned:
        device = session.get(LockDevice, device_id)
        assert device is not None
        _warn(session, device, now)
    session.flush()
    changed += _move(session, params, *_LOCK) + len(warned)
    session.expire_all()  # the ORM's copies of the rows just updated in SQL
    for device_id in unlocking:
        device = session.get(LockDevice, device_id)
        assert device is not None
        push_unlock(session, device, "cob")
    return changed
