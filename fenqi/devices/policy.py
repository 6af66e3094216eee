"""The lock policy as a pure decision (no database): what state a financed phone should be in, given its
loan and its warning. Close-of-business applies the same rules as set-based SQL (fenqi.devices.cob);
check-ins and payments apply this function to one device.

* the loan paid off → released (a short window to cancel, then final); cancelled (returned) → released;
* nothing past due → normal (a later delinquency needs a new warning);
* past due → reminder; the lock warning is queued once dpd reaches lock_after − 1;
* dpd ≥ lock_after and the warning queued at least warn_lead_hours ago → locked;
* a locked phone whose arrears drop below lock_after days (a payment) goes back to reminder.
A payoff release cancelled by staff within its window is held (not redone automatically).
A written-off loan keeps whatever state its phone is in; released is never left except by a staff
cancel within the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


class LockState:
    """The states of a financed phone's lock (stored in `device_lock.state`)."""

    NORMAL = "normal"
    REMINDER = "reminder"
    LOCKED = "locked"
    RELEASED = "released"
    ALL = (NORMAL, REMINDER, LOCKED, RELEASED)


@dataclass(frozen=True, slots=True)
class Decision:
    state: str
    warn: bool  # queue the lock warning now
    released_for: str | None = None  # payoff | return, when the decision is a release


def decide(
    *, state: str, loan_status: str, dpd: int, lock_enabled: bool, lock_after_dpd: int,
    lock_allowed_at: datetime | None, warned: bool, now: datetime, release_held: bool = False,
) -> Decision:
    if state == LockState.RELEASED:
        return Decision(state, False)
    if loan_status == "paid_off":
        # A release staff cancelled is not redone by the same payoff: staff release it again.
        return Decision(state if release_held else LockState.RELEASED, False, None if release_held else "payoff")
    if loan_status == "cancelled":
        return Decision(LockState.RELEASED, False, "return")
    if loan_status == "active":
        return Decision(LockState.NORMAL, False)
    if loan_status != "overdue":  # written off: left as it is
        return Decision(state, False)
    warn = lock_enabled and not warned and dpd >= max(lock_after_dpd - 1, 1)
    lockable = (lock_enabled and dpd >= lock_after_dpd and lock_allowed_at is not None
                and lock_allowed_at <= now)
    return Decision(LockState.LOCKED if lockable else LockState.REMINDER, warn)


def lock_allowed_from(warned_at: datetime, warn_lead_hours: int) -> datetime:
    return warned_at + timedelta(hours=warn_lead_hours)
