"""Identity's JSON shapes: the signed-in user, API keys, the audit log."""

from __future__ import annotations

from pydantic import Field

from fenqi.kit.schemas import Out, Timestamp


class Me(Out):
    user_id: int
    role: str
    merchant_id: int | None
    display_name: str


class ApiKeyOut(Out):
    id: int
    name: str
    prefix: str
    created_at: Timestamp
    last_used_at: Timestamp | None
    revoked: bool


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself: shown this once, stored only as a hash")


class ApiKeyList(Out):
    api_keys: list[ApiKeyOut]


class AuditEntryOut(Out):
    id: int
    at: Timestamp
    actor_user_id: int | None
    action: str
    subject: str
    detail: str


class AuditLog(Out):
    entries: list[AuditEntryOut]
