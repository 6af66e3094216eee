"""Shopper sign-in by mobile number and a one-time code sent through the notification outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fenqi.identity.errors import InvalidCode, TooManyCodes
from fenqi.identity.limits import Limit, take
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
MAX_CODES_PER_CLIENT_PER_HOUR = 10
CODES_PER_NUMBER = Limit("otp.number", MAX_CODES_PER_HOUR, 3600)
CODES_PER_CLIENT = Limit("otp.client", MAX_CODES_PER_CLIENT_PER_HOUR, 3600)
TEMPLATE = "login_code"


def send_login_code(session: Session, phone: str, *, client: str | None = None) -> OtpChallenge:
    """Create a challenge and queue an SMS with its code. At most CODES_PER_NUMBER an hour to a number
    (the outbox cannot flood someone's phone) and CODES_PER_CLIENT an hour from one client address (one
    client cannot text every number). Both counted atomically in the database (fenqi.identity.limits)."""
    if client is not None and take(session, CODES_PER_CLIENT, client) is None:
        raise TooManyCodes()
    number = normalize_mobile(phone)
    index = blind_index(number)
    now = utcnow()
    if take(session, CODES_PER_NUMBER, index) is None:
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
    allows MAX_ATTEMPTS guesses and one successful use: the guess is counted, and the limit checked, in
    one UPDATE, and the challenge is consumed by another that only one request can win."""
    now = utcnow()
    guess = session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.ref == ref, OtpChallenge.consumed_at.is_(None), OtpChallenge.expires_at > now,
               OtpChallenge.attempts < MAX_ATTEMPTS)
        .values(attempts=OtpChallenge.attempts + 1)
        .returning(OtpChallenge.id, OtpChallenge.code_hash, OtpChallenge.phone_enc)
    ).first() if ref else None
    if guess is None or not same(keyed_hash("otp", code.strip()), guess.code_hash):
        raise InvalidCode()
    won = session.execute(
        update(OtpChallenge).where(OtpChallenge.id == guess.id, OtpChallenge.consumed_at.is_(None))
        .values(consumed_at=now).returning(OtpChallenge.id)
    ).first()
    if won is None:
        raise InvalidCode()
    user = shopper_for_phone(session, decrypt(guess.phone_enc))
    user.last_login_at = now
    session.flush()
    return user
