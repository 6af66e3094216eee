"""The outbox sender job (fenqi.kit.jobs): enqueued in the same transaction as the outbox row, so a
message is sent once it is committed and never for a rolled-back change.

No SMS provider is wired yet. The demo has no gateway by design: messages stay in the outbox (shown on
the operations page, the login code with them). In tests the stand-in gateway only logs the masked
number; in production, without a provider, the job fails loudly and is retried rather than pretend."""

from __future__ import annotations

from fenqi.identity.outbox import deliver_one
from fenqi.kit.db import session_scope
from fenqi.kit.jobs import job
from fenqi.kit.log import log
from fenqi.kit.settings import Environment, get_settings


class NoSmsGateway(RuntimeError):
    pass


def _send(channel: str, to: str, text: str) -> None:
    if get_settings().env == Environment.PRODUCTION:
        raise NoSmsGateway("no SMS provider is configured")
    log.info("notification.sent", channel=channel, to=f"{to[:3]}****{to[-4:]}")


@job("identity.send_notification", queue="outbox", max_attempts=8)
def send_notification(notification_id: int) -> str:
    if get_settings().env == Environment.DEMO:
        return "held"  # the demo has no gateway: the outbox page is the phone
    with session_scope() as session:
        return deliver_one(session, notification_id, _send)
