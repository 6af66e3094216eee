"""The notification outbox: messages to people (SMS), queued in the request's transaction, sent later.

A message may carry a secret (a one-time login code). The secret is never stored in clear, nor shown,
outside the demo:
* `body` keeps the slot `{secret}` instead of the code; the code is sealed in `secret_enc` (AES-GCM
  under the PII key) together with a deadline, `secret_expires_at` (the code's own lifetime);
* the sender (`deliver_pending`) renders the text at send time, hands it to the gateway, marks the row
  sent and erases the sealed secret in the same transaction; a secret whose deadline has passed is
  erased unsent (`purge_expired_secrets`, also run whenever a new secret is queued), so a copied
  database holds no usable code for longer than a code lives;
* pages and listings show `shown_body`: the slot as ******, and any phone, ID or card number masked.
  Only with FENQI_ENV=demo, which has no SMS gateway, do the pages show what would have been sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from fenqi.identity import sms
from fenqi.identity.errors import InvalidInput
from fenqi.identity.models import Notification
from fenqi.identity.phones import normalize_mobile
from fenqi.identity.sms import SmsRefused, get_sms_settings
from fenqi.kit.crypto import blind_index, decrypt, encrypt, mask_phone
from fenqi.kit.db import utcnow
from fenqi.kit.jobs import defer
from fenqi.kit.log import log
from fenqi.kit.redact import redact_text
from fenqi.kit.settings import get_settings

CHANNELS = ("sms",)
SECRET_SLOT = "{secret}"
SHOWN_SECRET = "******"

# (channel, recipient, text) → None; raises to leave the message pending for the next round.
Sender = Callable[[str, str, str], None]


def notify(
    session: Session,
    *,
    channel: str,
    to: str,
    template: str,
    body: str,
    secret: str | None = None,
    secret_ttl: timedelta | None = None,
    params: dict[str, str] | None = None,
    zone: str | None = None,
) -> Notification:
    """Queue a message to a person. With `secret`, `body` must contain `{secret}` where it goes, and
    `secret_ttl` says how long it may wait to be sent. `params` are the provider template's variables
    (the SMS provider sends approved templates; `body` is what they read as); with `zone`, the message is
    held outside 08:00–22:00 there. In the demo there is no SMS gateway: the message stays in the outbox
    (shown on the operations page) and is printed on the console."""
    if channel not in CHANNELS:
        raise InvalidInput.saying(f"未知的发送渠道 {channel}", f"unknown channel {channel}")
    if (secret is None) != (SECRET_SLOT not in body) or (secret is not None and secret_ttl is None):
        raise ValueError("a secret needs a {secret} slot in the body and a lifetime")
    number = normalize_mobile(to) if channel == "sms" else to
    now = utcnow()
    row = Notification(
        channel=channel, to_enc=encrypt(number), to_masked=mask_phone(number), to_index=blind_index(number),
        template=template, body=body,
        secret_enc=encrypt(secret) if secret is not None else None,
        secret_expires_at=now + secret_ttl if secret is not None and secret_ttl is not None else None,
        sms_template=get_sms_settings().template_code(template) if channel == "sms" else None,
        params=json.dumps(params, ensure_ascii=False) if params is not None else None, zone=zone,
    )
    session.add(row)
    if secret is not None:
        purge_expired_secrets(session, now)
    session.flush()
    # The sender job commits with the message or not at all (fenqi.identity.tasks).
    defer(session, "identity.send_notification", notification_id=row.id)
    if get_settings().env == "demo":
        # Demo only: there is no gateway, the console stands in for the phone.
        print(f"[outbox] {channel} → {row.to_masked} ({template}): {text_to_send(row)}", flush=True)
    else:
        log.info("notification.queued", channel=channel, notification_id=row.id, template=template)
    return row


def purge_expired_secrets(session: Session, now: datetime | None = None) -> int:
    """Erase the sealed secrets whose deadline has passed; unsent messages carrying them expire."""
    now = now or utcnow()
    result = session.execute(
        update(Notification)
        .where(Notification.secret_enc.is_not(None), Notification.secret_expires_at <= now)
        .values(secret_enc=None, status=case((Notification.status == "pending", "expired"),
                                             else_=Notification.status))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def text_to_send(row: Notification) -> str:
    """The message as the gateway must deliver it (the secret in place). Only the sender and the demo
    use this; an erased secret leaves the slot masked."""
    if row.secret_enc is None:
        return row.body.replace(SECRET_SLOT, SHOWN_SECRET)
    return row.body.replace(SECRET_SLOT, decrypt(row.secret_enc))


def shown_body(row: Notification) -> str:
    """The message as pages and listings show it: outside the demo, no secret and no personal number."""
    if get_settings().env == "demo":
        return text_to_send(row)
    return redact_text(row.body.replace(SECRET_SLOT, SHOWN_SECRET))


QUIET_START, QUIET_END = time(22, 0), time(8, 0)


def quiet_until(now: datetime, zone: str) -> datetime | None:
    """When quiet hours (22:00–08:00 local) end, if `now` falls within them in `zone`; else None."""
    local = now.astimezone(ZoneInfo(zone))
    if QUIET_END <= local.time() < QUIET_START:
        return None
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def template_params(row: Notification) -> dict[str, str]:
    """The provider template's variables, the secret in place (a login code's only variable is it)."""
    if row.params is None:
        return {"code": decrypt(row.secret_enc)} if row.secret_enc is not None else {"content": text_to_send(row)}
    params: dict[str, str] = json.loads(row.params)
    secret = decrypt(row.secret_enc) if row.secret_enc is not None else SHOWN_SECRET
    return {k: v.replace(SECRET_SLOT, secret) for k, v in params.items()}


def _send_by_sdk(row: Notification) -> str:
    """SendSms through the provider's SDK; the provider's BizId."""
    return sms.send(decrypt(row.to_enc), row.sms_template or get_sms_settings().template_code(row.template),
                    template_params(row), out_id=f"n{row.id}")


def _retry_later(session: Session, row: Notification, at: datetime) -> None:
    row.next_attempt_at = at
    delay = max(timedelta(0), at - utcnow())
    defer(session, "identity.send_notification", notification_id=row.id, schedule_in=delay)


def deliver_one(session: Session, notification_id: int, send: Sender | None = None, *,
                now: datetime | None = None) -> str:
    """Send one message if it is still pending (the sender job); the row is locked so that a retried or
    duplicated job sends it at most once. Without `send`, the provider's SDK sends it (fenqi.identity.sms).

    A message with a zone waits out the quiet hours there; a refusal worth retrying (flow control, the
    provider down) is tried again after a back-off that doubles each time (FENQI_SMS_BACKOFF_SECONDS ·
    2^(tries−1)), up to FENQI_SMS_MAX_ATTEMPTS tries; any other refusal fails the message. Every try and
    its refusal are recorded on the row. Returns the row's status afterwards (or `waiting`)."""
    purge_expired_secrets(session)
    query = select(Notification).where(Notification.id == notification_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        return "missing"
    if row.status != "pending":
        return row.status
    now = now or utcnow()
    if row.next_attempt_at is not None and row.next_attempt_at > now:
        return "waiting"  # an earlier job's back-off: its own deferred job sends it
    if row.zone and (until := quiet_until(now, row.zone)) is not None:
        _retry_later(session, row, until)
        return "waiting"
    settings = get_sms_settings()
    row.attempts += 1
    try:
        if send is not None:
            send(row.channel, decrypt(row.to_enc), text_to_send(row))  # raises: the job is retried later
        else:
            row.provider_ref = _send_by_sdk(row)
    except SmsRefused as exc:
        row.last_error = exc.code[:120]
        log.warning("notification.refused", notification_id=row.id, code=exc.code, attempt=row.attempts)
        if exc.retryable and row.attempts < settings.sms_max_attempts:
            _retry_later(session, row, now + timedelta(seconds=settings.sms_backoff_seconds * 2 ** (row.attempts - 1)))
            session.flush()
            return "waiting"
        row.status, row.secret_enc = "failed", None
        session.flush()
        return "failed"
    row.status, row.sent_at, row.secret_enc, row.next_attempt_at = "sent", now, None, None
    session.flush()
    return "sent"


def record_receipt(session: Session, row: Notification, status: str, code: str, at: datetime | None) -> None:
    """The provider's delivery receipt of a sent message (delivered or undelivered, with its code)."""
    if status not in ("delivered", "undelivered") or row.delivery is not None:
        return
    row.delivery, row.delivery_code, row.delivered_at = status, code[:40], at or utcnow()
    session.flush()


def poll_receipts(session: Session, *, limit: int = 200) -> int:
    """Ask the provider (QuerySendDetails) for the receipts of messages sent in the last two days that
    have none yet; returns how many were recorded."""
    since = utcnow() - timedelta(days=2)
    rows = session.scalars(
        select(Notification).where(Notification.status == "sent", Notification.delivery.is_(None),
                                   Notification.provider_ref.is_not(None), Notification.sent_at >= since)
        .order_by(Notification.id).limit(limit)
    ).all()
    done = 0
    for row in rows:
        assert row.sent_at is not None and row.provider_ref is not None
        sent_on = row.sent_at.astimezone(ZoneInfo("Asia/Shanghai")).date()  # the provider's days are Beijing's
        try:
            got = sms.receipt(decrypt(row.to_enc), row.provider_ref, sent_on)
        except SmsRefused as exc:
            log.warning("notification.receipt_failed", notification_id=row.id, code=exc.code)
            continue
        if got.status != "waiting":
            at = got.received_at.replace(tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC) if got.received_at else None
            record_receipt(session, row, got.status, got.code, at)
            done += 1
    return done


def deliver_pending(session: Session, send: Sender, *, limit: int = 100) -> int:
    """Send up to `limit` pending messages through `send` (the SMS gateway's client); each sent row is
    marked sent and its secret erased in the caller's transaction. Returns how many were sent."""
    purge_expired_secrets(session)
    rows = session.scalars(
        select(Notification).where(Notification.status == "pending").order_by(Notification.id).limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for row in rows:
        try:
            send(row.channel, decrypt(row.to_enc), text_to_send(row))
        except Exception as exc:  # the gateway failed: the row stays pending for the next round
            log.warning("notification.send_failed", notification_id=row.id, error=type(exc).__name__)
            continue
        row.status, row.sent_at, row.secret_enc = "sent", utcnow(), None
        sent += 1
    session.flush()
    return sent


def latest_notifications(session: Session, *, limit: int) -> list[Notification]:
    """The newest messages of the outbox, newest first (the operations page shows them through shown_body)."""
    return list(session.scalars(select(Notification).order_by(Notification.id.desc()).limit(limit)))


def latest_notification(session: Session, *, to: str, template: str | None = None) -> Notification | None:
    """The newest message queued for a recipient (the demo's code page reads it)."""
    number = normalize_mobile(to)
    query = select(Notification).where(Notification.to_index == blind_index(number))
    if template is not None:
        query = query.where(Notification.template == template)
    return session.scalar(query.order_by(Notification.id.desc()).limit(1))
