"""Shopper sign-in by mobile number and a one-time code sent through the notification outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.identity.errors import InvalidCode, TooManyCodes
from fenqi.identity.models import OtpChallenge, User
from fenqi.identity.outbox import SECRET_SLOT, notify
from fenqi.identity.phones import normalize_mobile
from fenqi.identity.service import shopper_for_phone
from fenqi.identity.tokens import keyed_hash, new_otp_code, new_token, same
from fenqi.kit.crypto import blind_index, decrypt, encrypt, mask_phone
from fenqi.kit.db import utcnow

CODE_MINUTES = 5
MAX_ATTEMPTS = 5
MAX_CODES_PER_HOUR = 5
TEMPLATE = "login_code"


def send_login_code(session: Session, phone: str) -> OtpChallenge:
    """Create a challenge and queue an SMS with its code. At most MAX_CODES_PER_HOUR per number, so the
    outbox cannot be used to flood someone's phone."""
    number = normalize_mobile(phone)
    index = blind_index(number)
    now = utcnow()
    recent = session.scalar(
        select(func.count()).select_from(OtpChallenge)
        .where(OtpChallenge.phone_index == index, OtpChallenge.created_at > now - timedelta(hours=1))
    )
    if (recent or 0) >= MAX_CODES_PER_HOUR:
        raise TooManyCodes()
    code = new_otp_code()
    challenge = OtpChallenge(
        ref=new_token(), phone_index=index, phone_enc=encrypt(number), phone_masked=mask_phone(number),
        code_hash=keyed_hash("otp", code), expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    session.add(challenge)
    # The code goes into the outbox sealed, never in the stored text (fenqi.identity.outbox).
    notify(session, channel="sms", to=number, template=TEMPLATE,
           body=f"【分期】您的登录验证码是 {SECRET_SLOT}，{CODE_MINUTES} 分钟内有效。请勿告诉他人。",
           secret=code, secret_ttl=timedelta(minutes=CODE_MINUTES))
    return challenge


def challenge_by_ref(session: Session, ref: str) -> OtpChallenge | None:
    return session.scalar(select(OtpChallenge).where(OtpChallenge.ref == ref)) if ref else None


def verify_login_code(session: Session, ref: str, code: str) -> User:
    """The shopper (created on first sign-in) when the code matches an open challenge. Each challenge
    allows MAX_ATTEMPTS guesses and one successful use."""
    challenge = challenge_by_ref(session, ref)
    now = utcnow()
    if (
        challenge is None
        or challenge.consumed_at is not None
        or challenge.expires_at <= now
        or challenge.attempts >= MAX_ATTEMPTS
    ):
        raise InvalidCode()
    challenge.attempts += 1
    if not same(keyed_hash("otp", code.strip()), challenge.code_hash):
        session.flush()
        raise InvalidCode()
    challenge.consumed_at = now
    user = shopper_for_phone(session, decrypt(challenge.phone_enc))
    user.last_login_at = now
    session.flush()
    return user
