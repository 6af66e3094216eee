"""HTTP: who am I, API keys, the audit log (JSON); the sign-in pages are the web's (fenqi.web.signin)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from fenqi.identity.deps import Principal, current_principal, require_roles
from fenqi.identity.models import ApiKey, User
from fenqi.identity.roles import ADMIN, MERCHANT_OWNER
from fenqi.identity.schemas import ApiKeyCreated, ApiKeyList, ApiKeyOut, AuditLog, Me
from fenqi.identity.service import audit, create_api_key, latest_audit, revoke_api_key
from fenqi.identity.sms import get_sms_settings
from fenqi.kit.bounds import EntityId
from fenqi.kit.errors import NotFound
from fenqi.kit.web import SessionDep

router = APIRouter()
api = APIRouter(prefix="/api/v1/identity", tags=["identity"])


class ApiKeyIn(BaseModel):
    name: str = Field("default", max_length=80, description="What the key is for, e.g. 'store till'")


@api.get("/me", response_model=Me, summary="The signed-in user")
def me(who: Principal = Depends(current_principal)) -> dict[str, Any]:
    return {"user_id": who.user_id, "role": who.role, "merchant_id": who.merchant_id,
            "display_name": who.display_name}


def _key_json(row: ApiKey) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "prefix": row.prefix, "created_at": row.created_at.isoformat(),
            "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
            "revoked": row.revoked_at is not None}


@api.post(
    "/api-keys", response_model=ApiKeyCreated, status_code=201, summary="Create an API key for the caller (shown once)",
)
def new_key(
    body: ApiKeyIn,
    who: Principal = Depends(require_roles(MERCHANT_OWNER, ADMIN)),
    *, session: SessionDep,
) -> dict[str, Any]:
    user = session.get(User, who.user_id)
    if user is None:
        raise NotFound.saying(f"用户 {who.user_id}", f"user {who.user_id}")
    row, key = create_api_key(session, user, body.name)
    audit(session, actor_user_id=who.user_id, action="api_key.created", subject=f"api_key:{row.id}", detail=row.name)
    return {**_key_json(row), "key": key}


@api.get("/api-keys", response_model=ApiKeyList, summary="The caller's API keys (never the keys themselves)")
def list_keys(
    who: Principal = Depends(require_roles(MERCHANT_OWNER, ADMIN)), *, session: SessionDep
) -> dict[str, Any]:
    rows = session.scalars(select(ApiKey).where(ApiKey.user_id == who.user_id).order_by(ApiKey.id)).all()
    return {"api_keys": [_key_json(r) for r in rows]}


@api.delete(
    "/api-keys/{key_id}", response_model=ApiKeyOut, summary="Revoke one of the caller's API keys (admin: any key)",
)
def revoke_key(
    key_id: EntityId,
    who: Principal = Depends(require_roles(MERCHANT_OWNER, ADMIN)),
    *, session: SessionDep,
) -> dict[str, Any]:
    row = revoke_api_key(session, key_id, owner_user_id=None if who.role == ADMIN else who.user_id)
    audit(session, actor_user_id=who.user_id, action="api_key.revoked", subject=f"api_key:{row.id}")
    return _key_json(row)


@api.get("/audit", response_model=AuditLog, summary="The audit log, newest first")
def audit_log(
    limit: int = Query(100, ge=1, le=500),
    _: Principal = Depends(require_roles(ADMIN)),
    *, session: SessionDep,
) -> dict[str, Any]:
    rows = latest_audit(session, limit=max(1, min(limit, 500)))
    return {"entries": [
        {"id": r.id, "at": r.created_at.isoformat(), "actor_user_id": r.actor_user_id, "action": r.action,
         "subject": r.subject, "detail": r.detail} for r in rows
    ]}


router.include_router(api)


# -- the SMS gateway emulator (outside production, unless a gateway is configured) -------------------


class _LazySmsEmulator:
    """Builds the emulator on the first request, not at import."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await sms_emulator_app()(scope, receive, send)


@lru_cache
def sms_emulator_app() -> Any:
    """One emulator per process: the demo server and anything in it share its inbox."""
    # Imported here, not at the top: the emulator's code loads on its first request, never in production
    from fenqi.identity.sms_emulator import create_app

    return create_app()


def _mount_sms_emulator() -> None:
    settings = get_sms_settings()
    if settings.env != "production" and settings.emulated:
        router.mount("/_emulator/sms", _LazySmsEmulator())


_mount_sms_emulator()
