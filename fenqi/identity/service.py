"""Identity services: users, API keys, staff password sign-in, the audit log and the notification outbox.

Services take a Session and never commit; the request or job boundary does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.orm import Session

from fenqi.identity.errors import (
    InvalidApiKey,
    InvalidCredentials,
    InvalidInput,
    TooManyAttempts,
    UnknownRole,
    UsernameTaken,
)
from fenqi.identity.limits import Limit, Ticket, refund, take
from fenqi.identity.models import ApiKey, AuditEntry, Notification, User
from fenqi.identity.outbox import latest_notification as latest_notification  # re-exported:
from fenqi.identity.outbox import notify as notify  # every domain queues messages through identity
from fenqi.identity.outbox import quiet_until as quiet_until
from fenqi.identity.passwords import hash_password, needs_rehash, verify_password
from fenqi.identity.phones import normalize_mobile
from fenqi.identity.principal import Principal
from fenqi.identity.roles import MERCHANT_ROLES, ROLES, SHOPPER
from fenqi.identity.tokens import API_KEY_PREFIX, new_api_key, sha256_hex
from fenqi.kit.crypto import blind_index, decrypt, encrypt, mask_phone
from fenqi.kit.db import utcnow
from fenqi.kit.errors import NotFound

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MAX_FAILED_LOGINS_PER_CLIENT = 20
LOGINS_PER_CLIENT = Limit("login.client", MAX_FAILED_LOGINS_PER_CLIENT, 15 * 60)
KEY_USE_RESOLUTION = timedelta(hours=1)


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, role=user.role, merchant_id=user.merchant_id, display_name=user.display_name)


# --- users -------------------------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    role: str,
    display_name: str,
    username: str | None = None,
    password: str | None = None,
    phone: str | None = None,
    merchant_id: int | None = None,
) -> User:
    """A staff user (username + password) or a shopper (phone); API-key-only users need neither."""
    if role not in ROLES:
        raise UnknownRole(role)
    if not display_name.strip():
        raise InvalidInput("display_name", zh="请填写姓名", en="Give the name")
    if username is not None:
        username = username.strip().lower()
        if not username:
            raise InvalidInput("username", zh="请填写登录名", en="Give the sign-in name")
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise UsernameTaken(username)
    user = User(
        role=role,
        display_name=display_name.strip(),
        username=username,
        password_hash=hash_password(password) if password is not None else None,
        merchant_id=merchant_id if role in MERCHANT_ROLES or merchant_id is not None else None,
    )
    if phone is not None:
        number = normalize_mobile(phone)
        user.phone_index, user.phone_enc = blind_index(number), encrypt(number)
    session.add(user)
    session.flush()
    return user


def staff_with_role(session: Session, role: str, merchant_id: int | None = None) -> dict[int, str]:
    """Active staff of one role (of one merchant, if given), id → display name (who may be assigned
    work, e.g. collection cases; a training store's clerks)."""
    q = select(User.id, User.display_name).where(User.role == role, User.active.is_(True)).order_by(User.id)
    rows = session.execute(q if merchant_id is None else q.where(User.merchant_id == merchant_id))
    return {int(uid): name for uid, name in rows}


def first_with_role(session: Session, role: str, merchant_id: int | None = None) -> Principal | None:
    """The oldest user of a role (of one merchant, if given), active or not: who a script acts as (the demo
    history's clerks and risk officer). None when there is none."""
    q = select(User).where(User.role == role)
    if merchant_id is not None:
        q = q.where(User.merchant_id == merchant_id)
    user = session.scalar(q.order_by(User.id).limit(1))
    return None if user is None else principal_of(user)


def user_by_phone(session: Session, phone: str) -> User | None:
    return session.scalar(select(User).where(User.phone_index == blind_index(normalize_mobile(phone))))


def shopper_for_phone(session: Session, phone: str) -> User:
    """The shopper with this mobile number, created on first sign-in."""
    number = normalize_mobile(phone)
    user = session.scalar(select(User).where(User.phone_index == blind_index(number)))
    if user is None:
        user = create_user(session, role=SHOPPER, display_name=mask_phone(number), phone=number)
    return user


def shopper_account_of(session: Session, phone: str) -> User | None:
    """The shopper account of a number staff typed for a sale (created now if there is none; only a sign-in
    code sent to that phone opens it). None when the number is a staff account's: a sale never links to it."""
    user = shopper_for_phone(session, phone)
    return user if user.role == SHOPPER else None


def masked_phones(session: Session, user_ids: list[int]) -> dict[int, str]:
    """Users' mobile numbers masked for staff pages (138****5678), by user id; users without one are left out."""
    if not user_ids:
        return {}
    query = select(User.id, User.phone_enc).where(User.id.in_(set(user_ids)), User.phone_enc.is_not(None))
    rows = session.execute(query)
    return {int(uid): mask_phone(decrypt(enc)) for uid, enc in rows if enc}


# --- staff password sign-in --------------------------------------------------------------------------


def begin_password_attempt(session: Session, client: str) -> Ticket:
    """Count one sign-in attempt from `client` before any password is checked, so that concurrent
    attempts cannot all be tried before the first is counted; `TooManyAttempts` (which says nothing
    about any account) past LOGINS_PER_CLIENT. The caller commits right after (the page does, with
    commit_early), so the client's counter is not held locked while argon2 runs."""
    ticket = take(session, LOGINS_PER_CLIENT, client)
    if ticket is None:
        raise TooManyAttempts()
    return ticket


def authenticate_password(session: Session, username: str, password: str, *, ticket: Ticket | None = None) -> User:
    """The staff user with this username and password.

    Every refusal is the same `InvalidCredentials` (same status, same message) and costs one argon2
    verification, whether the user is unknown, inactive, locked or gave a wrong password, so that
    neither the answer nor its timing tells which usernames exist or are locked. Failures are counted
    atomically per account (MAX_FAILED_LOGINS lock it for LOCK_MINUTES); `ticket`, from
    begin_password_attempt, is given back when the sign-in succeeds (only failures count per client)."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    now = utcnow()
    locked = user is not None and user.locked_until is not None and user.locked_until > now
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not user.active or user.role == SHOPPER or locked or not ok:
        if user is not None and not locked:
            _count_failure(session, user.id, now)
        audit(session, actor_user_id=user.id if user else None, action="login.failed", subject="password")
        raise InvalidCredentials()
    if ticket is not None:
        refund(session, ticket)  # a successful sign-in does not count against the client
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return user


def _count_failure(session: Session, user_id: int, now: datetime) -> None:
    """One more failure, counted and checked in a single UPDATE: the MAX_FAILED_LOGINS-th locks the
    account; failures while it is locked are not counted; the count starts over once a lock has ended."""
    lock_over = and_(User.locked_until.is_not(None), User.locked_until <= now)
    count = case((lock_over, 1), else_=User.failed_logins + 1)
    session.execute(
        update(User)
        .where(User.id == user_id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=count,
                locked_until=case((count >= MAX_FAILED_LOGINS, now + timedelta(minutes=LOCK_MINUTES)), else_=None))
    )


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    session.flush()


# --- API keys ----------------------------------------------------------------------------------------


def create_api_key(session: Session, user: User, name: str = "default") -> tuple[ApiKey, str]:
    """A new key for the user: (the stored row, the full key). The key is shown once and never stored."""
    key, prefix = new_api_key()
    row = ApiKey(user_id=user.id, name=name.strip() or "default", prefix=prefix, key_hash=sha256_hex(key))
    session.add(row)
    session.flush()
    return row, key


def principal_for_api_key(session: Session, key: str) -> Principal:
    if not key.startswith(API_KEY_PREFIX):
        raise InvalidApiKey()
    # One round trip for the key and its user: this runs on every API request.
    found = session.execute(
        select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.key_hash == sha256_hex(key))
    ).first()
    if found is None:
        raise InvalidApiKey()
    row, user = found
    if row.revoked_at is not None or not user.active:
        raise InvalidApiKey()
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > KEY_USE_RESOLUTION:
        # Roughly when a key was last used (to find dead keys), without a write on every request.
        row.last_used_at = now
    return principal_of(user)


def revoke_api_key(session: Session, key_id: int, *, owner_user_id: int | None = None) -> ApiKey:
    """Revoke a key; with owner_user_id, only that user's own key (a merchant owner revoking theirs)."""
    row = session.get(ApiKey, key_id)
    if row is None or (owner_user_id is not None and row.user_id != owner_user_id):
        raise NotFound.saying(f"API 密钥 {key_id}", f"api key {key_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


# --- audit log (used by every domain; the outbox is fenqi.identity.outbox) ----------------------------------------


def audit(session: Session, *, actor_user_id: int | None, action: str, subject: str, detail: str = "") -> AuditEntry:
    """Record a sensitive action. `subject` names what was touched ("loan:42"); no personal data in
    `detail` (mask it first)."""
    entry = AuditEntry(actor_user_id=actor_user_id, action=action, subject=subject, detail=detail)
    session.add(entry)
    session.flush()
    return entry


def latest_audit(session: Session, *, limit: int) -> list[AuditEntry]:
    """The newest entries of the audit log, newest first."""
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


# --- ports for collections: the borrower's own number, and what became of a message ---------------------


def verified_phone(session: Session, user_id: int | None) -> str | None:
    """A shopper's own mobile number, verified by the sign-in code sent to it (the only number the
    platform may contact about the shopper's loans); None when there is none."""
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or user.role != SHOPPER or not user.active or user.phone_enc is None or user.last_login_at is None:
        return None
    return decrypt(user.phone_enc)


@dataclass(frozen=True)
class MessageStatus:
    id: int
    to_masked: str
    status: str  # pending | sent | failed | expired
    delivery: str | None  # delivered | undelivered, from the provider's receipt
    delivery_code: str | None
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    provider_ref: str | None


def message_statuses(session: Session, ids: list[int]) -> dict[int, MessageStatus]:
    """Sending and delivery of outbox messages, by id."""
    if not ids:
        return {}
    rows = session.scalars(select(Notification).where(Notification.id.in_(ids))).all()
    return {r.id: MessageStatus(r.id, r.to_masked, r.status, r.delivery, r.delivery_code, r.attempts, r.last_error,
                                r.sent_at, r.delivered_at, r.next_attempt_at, r.provider_ref) for r in rows}
