"""What makes two requests under one `Idempotency-Key` "the same request": the caller (the key is scoped to
the user who sent it), the method and path, and the body. A retry of the same request gets the first answer
again; the same key with another body is refused (409) — never answered with another request's answer.

`remember_body` is a router dependency: it reads the raw body once (Starlette keeps it for the endpoint's
own parsing) and leaves its fingerprint on the request for the synchronous helpers of the domains.

`bind` serves endpoints whose domain keeps its own answer under a reference of its own (an application, a
risk decision, a repayment's payment_ref, a refund's refund_ref): it records which body a scoped key was
first used with, refuses another body, and gives back a short `reference` of the scoped key for the domain
to replay by — so another caller with the same key is another request, and the domain's own unique
reference still guards the money."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from fastapi import Request
from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from fenqi.kit.db import Base, BigId, UtcDateTime, utcnow
from fenqi.kit.errors import Conflict


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    zh = "此 Idempotency-Key 已用于内容不同的另一个请求，不能重复使用；请为新的请求换一个新的 Idempotency-Key"
    en = ("This Idempotency-Key was already used for a request with a different body; use a new key for a new "
          "request")


class IdempotencyKeyBusy(Conflict):
    code = "idempotency_key_busy"
    zh = "使用同一 Idempotency-Key 的另一个请求刚刚已处理，本次未执行；请用同一 Idempotency-Key 重试以取得该结果"
    en = ("Another request under the same Idempotency-Key was just handled and this one was not carried out; "
          "retry with the same key to get its answer")


def scope(user_id: int, method: str, path: str, key: str) -> str:
    """The stored key: the caller's key within (user, method, path) — 1..100 characters of key, so that the
    result stays within 160 characters."""
    where = hashlib.sha256(f"{method.upper()} {path}".encode()).hexdigest()[:16]
    return f"{user_id}:{where}:{key.strip()[:100]}"


def fingerprint(method: str, path: str, body: bytes) -> str:
    """A digest of the request: JSON bodies by their content (key order and spacing do not matter), any other
    body by its bytes."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256(f"{method.upper()} {path}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


async def remember_body(request: Request) -> None:
    """Router dependency: the request's fingerprint, on `request.state.idempotency_fingerprint`."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        request.state.idempotency_fingerprint = fingerprint(request.method, request.url.path, await request.body())


def fingerprint_of(request: Request) -> str:
    """The fingerprint `remember_body` left (or, where it did not run, one of method and path alone)."""
    found = getattr(request.state, "idempotency_fingerprint", None)
    return str(found) if found else fingerprint(request.method, request.url.path, b"")


class IdempotencyKey(Base):
    """Which request (by fingerprint) a scoped Idempotency-Key was first used for."""

    __tablename__ = "idempotency_key"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # scope(...)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


def reference(scoped: str) -> str:
    """A short, stable stand-in for a scoped key (40 hex characters), to fit a domain's reference column."""
    return hashlib.sha256(scoped.encode()).hexdigest()[:40]


def bind(session: Session, request: Request, user_id: int, key: str | None) -> str | None:
    """Bind the caller's Idempotency-Key to this request's body; the `reference` the domain keeps its answer
    under, or None without a key. The same key with another body raises IdempotencyKeyReused. Run it before
    the domain's work: the binding is rolled back with a request that fails."""
    if not key or not key.strip():
        return None
    scoped = scope(user_id, request.method, request.url.path, key)
    mark = fingerprint_of(request)
    found = _bound(session, scoped)
    if found is None:
        try:
            with session.begin_nested():  # a concurrent twin under the same key waits here for the first
                session.add(IdempotencyKey(key=scoped, fingerprint=mark))
                session.flush()
            return reference(scoped)
        except IntegrityError:
            # The twin committed first: with the same body, the domain replays its answer by the reference.
            found = _bound(session, scoped)
            if found is None:
                raise IdempotencyKeyBusy() from None
    if found != mark:
        raise IdempotencyKeyReused()
    return reference(scoped)


def _bound(session: Session, scoped: str) -> str | None:
    """The fingerprint a scoped key is bound to, if any."""
    return session.scalar(select(IdempotencyKey.fingerprint).where(IdempotencyKey.key == scoped))
