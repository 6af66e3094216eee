"""The outbox jobs (fenqi.kit.jobs): the sender, enqueued in the same transaction as the outbox row, so
a message is sent once it is committed and never for a rolled-back change; and the receipts poller.

The sender goes through Alibaba Cloud SMS's SDK (fenqi.identity.sms) in production, and wherever
FENQI_SMS_PROVIDER=aliyun (then, without FENQI_SMS_ENDPOINT, to the emulator on our own server). The demo
keeps its messages in the outbox by design (the operations page is the phone); the test suite's stand-in
only logs the masked number, and tests of the SDK call the sender themselves."""

from __future__ import annotations

from fenqi.identity.outbox import deliver_one, poll_receipts
from fenqi.identity.sms import get_sms_settings
from fenqi.kit.db import session_scope
from fenqi.kit.jobs import job
from fenqi.kit.log import log
from fenqi.kit.settings import Environment, get_settings


def _log_only(channel: str, to: str, text: str) -> None:
    log.info("notification.sent", channel=channel, to=f"{to[:3]}****{to[-4:]}")


@job("identity.send_notification", queue="outbox", max_attempts=8)
def send_notification(notification_id: int) -> str:
    if get_settings().env == Environment.DEMO and not get_sms_settings().uses_sdk:
        return "held"  # the demo has no gateway: the outbox page is the phone
    with session_scope() as session:
        return deliver_one(session, notification_id, None if get_sms_settings().uses_sdk else _log_only)


@job("identity.sms_receipts", queue="outbox", cron="*/5 * * * *", queueing_lock="identity.sms_receipts")
def sms_receipts(timestamp: int | None = None) -> int:
    """Every five minutes: the delivery receipts of recently sent messages (QuerySendDetails)."""
    if not get_sms_settings().uses_sdk:
        return 0
    with session_scope() as session:
        return poll_receipts(session)
