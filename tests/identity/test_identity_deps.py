"""Credentials: API keys, roles, 401 and 403 through the real app."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.roles import ROLES
from fenqi.identity.service import create_api_key, create_user, revoke_api_key

Headers = Callable[..., dict[str, str]]


def test_nobody_signed_in_is_401(client: TestClient) -> None:
    r = client.get("/api/v1/identity/me")
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"


def test_every_role_is_recognised_by_its_api_key(client: TestClient, auth_headers: Headers) -> None:
    for role in ROLES:
        r = client.get("/api/v1/identity/me", headers=auth_headers(role, 7 if role == "clerk" else None))
        assert r.status_code == 200, r.text
        assert r.json()["role"] == role
    assert client.get("/api/v1/identity/me", headers=auth_headers("clerk", 7)).json()["merchant_id"] == 7


def test_wrong_scheme_or_unknown_key_is_401(client: TestClient) -> None:
    for value in ("Basic abc", "Bearer ", "Bearer fq_nope_nope", "Bearer something"):
        r = client.get("/api/v1/identity/me", headers={"Authorization": value})
        assert r.status_code == 401, value


def test_role_not_allowed_is_403_and_admin_passes(client: TestClient, auth_headers: Headers) -> None:
    assert client.get("/api/v1/identity/audit", headers=auth_headers("finance")).status_code == 403
    r = client.get("/api/v1/identity/audit", headers=auth_headers("admin"), params={"lang": "en"})
    assert r.status_code == 200
    assert client.get("/api/v1/identity/api-keys", headers=auth_headers("admin")).status_code == 200


def test_revoked_key_stops_working(client: TestClient, session: Session) -> None:
    user = create_user(session, role="merchant_owner", display_name="王老板", merchant_id=1)
    row, key = create_api_key(session, user, "till")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/identity/me", headers=headers).status_code == 200
    revoke_api_key(session, row.id)
    assert client.get("/api/v1/identity/me", headers=headers).status_code == 401


def test_key_is_stored_hashed_and_shown_once(client: TestClient, auth_headers: Headers) -> None:
    headers = auth_headers("merchant_owner", 3)
    created = client.post("/api/v1/identity/api-keys", json={"name": "shop app"}, headers=headers)
    assert created.status_code == 201
    key = created.json()["key"]
    assert client.get("/api/v1/identity/me", headers={"Authorization": f"Bearer {key}"}).json()["merchant_id"] == 3
    listed = client.get("/api/v1/identity/api-keys", headers=headers).json()["api_keys"]
    assert key not in str(listed)
    assert any(k["name"] == "shop app" and k["last_used_at"] for k in listed)


def test_passwords_are_argon2id_and_checked() -> None:
    from fenqi.identity.passwords import hash_password, verify_password

    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "Correct horse")
    assert not verify_password(None, "correct horse")
