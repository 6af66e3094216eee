"""The outbox sender: delivers one queued message (fenqi.kit.jobs), enqueued in the same transaction as
the outbox row, so a message is sent once it is committed and never for a rolled-back change.

No SMS provider is wired yet: delivery is recorded (status `sent`, `sent_at`) with the masked number
in the log; a provider's SDK call belongs in `_deliver`. The row lock makes a retried or duplicated
job send a message at most once."""

from __future__ import annotations

from sqlalchemy import select

from fenqi.identity.models import Notification
from fenqi.kit.db import session_scope, utcnow
from fenqi.kit.jobs import job
from fenqi.kit.log import log


def _deliver(row: Notification) -> None:
    log.info("notification.sent", channel=row.channel, to=row.to_masked, template=row.template)


@job("identity.send_notification", queue="outbox", max_attempts=8)
def send_notification(notification_id: int) -> str:
    with session_scope() as session:
        q = select(Notification).where(Notification.id == notification_id)
        if session.get_bind().dialect.name == "postgresql":
            q = q.with_for_update()
        row = session.scalar(q)
        if row is None:
            return "missing"
        if row.status != "pending":
            return row.status
        _deliver(row)
        row.status, row.sent_at = "sent", utcnow()
    return "sent"
