"""Idempotent state changes of the after-sales API: the answer to a change is kept under the caller's
`Idempotency-Key` (scoped by user, method and path, and bound to the body), so a retried request gets the
same answer and changes nothing, and a different request under the same key is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Header, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fenqi.aftersales.models import IdempotentRequest
from fenqi.identity.deps import Principal
from fenqi.kit.db import Session
from fenqi.kit.errors import InvalidInput
from fenqi.kit.idempotency import IdempotencyKeyBusy, IdempotencyKeyReused, fingerprint_of, scope

KeyHeader = Header(None, alias="Idempotency-Key", max_length=100, description="Required: retry safely")


def idempotent(session: Session, request: Request, who: Principal, key: str | None,
               action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a state change once per (user, method, path, Idempotency-Key); the same request again gets the
    first answer, the same key with another body is refused (fenqi.kit.idempotency)."""
    if not key or not key.strip():
        raise InvalidInput.saying("每次变更都须带 Idempotency-Key 请求头",
                                  "the Idempotency-Key header is required for every change")
    scoped = scope(who.user_id, request.method, request.url.path, key)
    mark = fingerprint_of(request)
    done = session.scalar(select(IdempotentRequest).where(IdempotentRequest.key == scoped))
    if done is not None:
        if done.fingerprint != mark:
            raise IdempotencyKeyReused()
        return done.body
    body = action()
    try:
        with session.begin_nested():  # a concurrent twin under the same key: one answer is kept
            session.add(IdempotentRequest(key=scoped, path=request.url.path[:200], fingerprint=mark, body=body))
            session.flush()
    except IntegrityError:
        raise IdempotencyKeyBusy() from None  # this request's changes are rolled back with it
    return body
