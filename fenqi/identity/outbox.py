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

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from fenqi.identity.errors import InvalidInput
from fenqi.identity.models import Notification
from fenqi.identity.phones import normalize_mobile
from fenqi.kit.crypto import blind_index, decrypt, encrypt, mask_phone
from fenqi.kit.db import utcnow
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
) -> Notification:
    """Queue a message to a person. With `secret`, `body` must contain `{secret}` where it goes, and
    `secret_ttl` says how long it may wait to be sent. In the demo there is no SMS gateway: the message
    stays in the outbox (shown on the operations page) and is printed on the console."""
    if channel not in CHANNELS:
        raise InvalidInput(f"channel {channel}")
    if (secret is None) != (SECRET_SLOT not in body) or (secret is not None and secret_ttl is None):
        raise ValueError("a secret needs a {secret} slot in the body and a lifetime")
    number = normalize_mobile(to) if channel == "sms" else to
    now = utcnow()
    row = Notification(
        channel=channel, to_enc=encrypt(number), to_masked=mask_phone(number), to_index=blind_index(number),
        template=template, body=body,
        secret_enc=encrypt(secret) if secret is not None else None,
        secret_expires_at=now + secret_ttl if secret is not None and secret_ttl is not None else None,
    )
    session.add(row)
    if secret is not None:
        purge_expired_secrets(session, now)
    session.flush()
    # The sender job commits with the message or not at all (fenqi.identity.tasks).
    from fenqi.kit.jobs import defer

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


def deliver_one(session: Session, notification_id: int, send: Sender) -> str:
    """Send one message if it is still pending (the sender job); the row is locked so that a retried or
    duplicated job sends it at most once. Returns the row's status afterwards."""
    purge_expired_secrets(session)
    query = select(Notification).where(Notification.id == notification_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        return "missing"
    if row.status != "pending":
        return row.status
    send(row.channel, decrypt(row.to_enc), text_to_send(row))  # raises: the job is retried later
    row.status, row.sent_at, row.secret_enc = "sent", utcnow(), None
    session.flush()
    return "sent"


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


def latest_notification(session: Session, *, to: str, template: str | None = None) -> Notification | None:
    """The newest message queued for a recipient (the demo's code page reads it)."""
    number = normalize_mobile(to)
    query = select(Notification).where(Notification.to_index == blind_index(number))
    if template is not None:
        query = query.where(Notification.template == template)
    return session.scalar(query.order_by(Notification.id.desc()).limit(1))
