"""Background jobs of the device lock (fenqi.kit.jobs)."""

from __future__ import annotations

from fenqi.devices.models import LockDevice, LockEvent
from fenqi.kit.clock import business_date
from fenqi.kit.db import session_scope, utcnow
from fenqi.kit.jobs import job


@job("devices.push_unlock", max_attempts=8, backoff=1)
def push_unlock(device_id: int) -> None:
    """Wake the phone so that it checks in at once (and unlocks at that check-in).

    There is no push gateway (FCM/HMS) in this system yet: the job records that the push was handed
    over, which is what the agent's next check-in is measured against."""
    with session_scope() as session:
        device = session.get(LockDevice, device_id)
        if device is None:
            return
        session.add(LockEvent(device_id=device.id, loan_id=device.loan_id, kind="push_unlock", reason="job",
                              from_state=None, to_state=None, business_date=business_date(session),
                              detail="sent", at=utcnow()))
