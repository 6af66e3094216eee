"""Identity tables: users, API keys, page sessions, one-time codes, the notification outbox, the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, Timestamped, UtcDateTime


class User(Timestamped, Base):
    """A person who signs in. Staff have a username and an argon2 password hash; shoppers a phone number.

    The phone number is personal data: encrypted (`phone_enc`) and looked up by its blind index.
    `merchant_id` names the merchant a clerk or merchant owner works for (catalog's merchant id; no
    foreign key so that identity does not depend on the catalog's tables).
    """

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    role: Mapped[str] = mapped_column(String(24), index=True)
    display_name: Mapped[str] = mapped_column(String(80))
    username: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone_index: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    merchant_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ApiKey(Timestamped, Base):
    """A key for a merchant's system or a staff script. Only its SHA-256 is stored: the key is 256 random
    bits, so a fast hash is safe and keeps each API request cheap (argon2 is for low-entropy passwords)."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class WebSession(Timestamped, Base):
    """A signed-in browser. The cookie holds a random token; the table holds its SHA-256, so a leaked
    table cannot be replayed, and logout revokes the row (unlike a self-contained signed cookie)."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class OtpChallenge(Timestamped, Base):
    """A one-time login code sent to a shopper's phone; only a keyed hash of the code is stored."""

    __tablename__ = "otp_challenge"
    __table_args__ = (Index("ix_otp_challenge_phone_created", "phone_index", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # The public handle of the challenge in the verify page's URL: random, so it reveals no phone number.
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    phone_index: Mapped[str] = mapped_column(String(64))
    phone_enc: Mapped[str] = mapped_column(Text)
    phone_masked: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Notification(Timestamped, Base):
    """The outbox of messages to people (SMS). A sender delivers pending rows; the demo shows them on an
    operations page instead. The recipient is personal data: encrypted, with a masked copy for pages.

    A message that carries a secret (a login code) never holds it in clear: `body` keeps the slot
    `{secret}`, and the secret itself is sealed in `secret_enc` (AES-GCM under the PII key) until the
    message is sent or `secret_expires_at` passes, when it is erased (fenqi.identity.outbox)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    to_enc: Mapped[str] = mapped_column(Text)
    to_masked: Mapped[str] = mapped_column(String(40))
    to_index: Mapped[str] = mapped_column(String(64), index=True)
    template: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    secret_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    secret_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed | expired
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The SMS provider's template and its variables (JSON; may hold the `{secret}` slot), when the
    # provider sends approved templates rather than free text (fenqi.identity.sms).
    sms_template: Mapped[str | None] = mapped_column(String(40), nullable=True)
    params: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Quiet hours: a message with a zone is never sent between 22:00 and 08:00 there (collections'
    # reminders); without one (login codes) it goes at once.
    zone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Sending: tries so far, the provider's last refusal, when the next try is due (back-off).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(120), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Delivery, from the provider's receipt: the provider's id of the message (BizId), then
    # delivered | undelivered with the handset's error code.
    provider_ref: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    delivery: Mapped[str | None] = mapped_column(String(16), nullable=True)
    delivery_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class AuditEntry(Timestamped, Base):
    """One sensitive action (revealing an ID number, approving, refunding, locking a device, signing in).
    Append-only: nothing updates or deletes these rows."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str] = mapped_column(Text, default="")


class RateCounter(Base):
    """Uses of a limited action (sign-in attempts, codes sent) by one client or number in one fixed
    window. Updated only by one atomic statement (fenqi.identity.limits.take), never read-then-write.
    `key_hash` is a keyed hash of the client address or phone number, not the value itself."""

    __tablename__ = "rate_counter"
    __table_args__ = (UniqueConstraint("scope", "key_hash", "window_start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64))
    # The window's start in seconds since the epoch (a multiple of the window's length).
    window_start: Mapped[int] = mapped_column(BigInteger)
    used: Mapped[int] = mapped_column(Integer)
