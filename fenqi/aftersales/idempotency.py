"""Idempotent state changes of the after-sales API: the answer to a change is kept under the caller's
`Idempotency-Key` (scoped by user), so a retried request gets the same answer and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Header, Request
from sqlalchemy import select

from fenqi.aftersales.models import IdempotentRequest
from fenqi.identity.deps import Principal
from fenqi.kit.db import Session
from fenqi.kit.errors import InvalidInput

KeyHeader = Header(None, alias="Idempotency-Key", max_length=100, description="Required: retry safely")


def idempotent(session: Session, request: Request, who: Principal, key: str | None,
               action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a state change once per (user, Idempotency-Key); a repeat returns the first answer."""
    if not key or not key.strip():
        raise InvalidInput.saying("每次变更都须带 Idempotency-Key 请求头",
                                  "the Idempotency-Key header is required for every change")
    scoped = f"{who.user_id}:{key.strip()}"
    done = session.scalar(select(IdempotentRequest).where(IdempotentRequest.key == scoped))
    if done is not None:
        if done.path != request.url.path:
            raise InvalidInput.saying("此 Idempotency-Key 已用于另一个请求",
                                      "this Idempotency-Key was used for another request")
        return done.body
    body = action()
    session.add(IdempotentRequest(key=scoped, path=request.url.path[:200], body=body))
    session.flush()
    return body
