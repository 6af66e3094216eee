"""Authorization everywhere: every route of the app, without credentials and as every role.

Walks `create_app().routes`. A route that is not in the PUBLIC allow-list (fenqi/identity/public.py) must
answer 401 without credentials and 403 to each role its `require_roles(...)` does not allow. A route
with neither a role check nor a place on the allow-list fails the test: that is how new endpoints that
forgot their `Depends(require_roles(...))` are caught.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from fenqi.api import create_app
from fenqi.identity.deps import RoleCheck, current_principal
from fenqi.identity.public import PUBLIC, PUBLIC_PREFIXES, is_public
from fenqi.identity.roles import ADMIN, ROLES

Headers = Callable[..., dict[str, str]]
_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    dependant: Dependant | None

    @property
    def url(self) -> str:
        # Any well-formed value: the credentials are checked before the path parameter is used.
        return _PARAM.sub("1", self.path)


def endpoints(app: FastAPI) -> Iterator[Endpoint]:
    for route in iter_route_contexts(app.routes):
        path = route.path
        if path is None:
            continue
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                yield Endpoint(method, path, getattr(route, "dependant", None))


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def allowed_roles(endpoint: Endpoint) -> frozenset[str] | None:
    """The roles an endpoint lets in (admin always), or None when it does not authenticate at all."""
    if endpoint.dependant is None:
        return None
    calls = list(_calls(endpoint.dependant))
    checks = [c for c in calls if isinstance(c, RoleCheck)]
    if checks:
        allowed = frozenset(ROLES)
        for check in checks:
            allowed &= check.roles | {ADMIN}
        return allowed
    return frozenset(ROLES) if current_principal in calls else None


@pytest.fixture(scope="module")
def app_endpoints() -> list[Endpoint]:
    return list(endpoints(create_app()))


def test_allow_list_is_small_and_current(app_endpoints: list[Endpoint]) -> None:
    present = {(e.method, e.path) for e in app_endpoints}
    stale = [key for key in PUBLIC if key not in present]
    assert not stale, f"PUBLIC entries that match no route (remove them): {stale}"
    assert all(reason.strip() for reason in [*PUBLIC.values(), *PUBLIC_PREFIXES.values()])


def test_every_route_is_public_or_protected(app_endpoints: list[Endpoint]) -> None:
    unprotected = [
        f"{e.method} {e.path}" for e in app_endpoints if not is_public(e.method, e.path) and allowed_roles(e) is None
    ]
    assert not unprotected, (
        "routes without Depends(require_roles(...)) or current_principal and not in "
        f"fenqi/identity/public.py: {unprotected}"
    )


def test_public_routes_do_not_demand_credentials(client: TestClient, app_endpoints: list[Endpoint]) -> None:
    for e in app_endpoints:
        if is_public(e.method, e.path) and e.method == "GET" and "{" not in e.path:
            assert client.get(e.url).status_code not in (401, 403), e.path


def test_role_by_route_matrix(client: TestClient, app_endpoints: list[Endpoint], auth_headers: Headers) -> None:
    headers = {role: auth_headers(role, 1 if role in ("clerk", "merchant_owner") else None) for role in ROLES}
    failures: list[str] = []
    checked = 0
    for e in app_endpoints:
        if is_public(e.method, e.path):
            continue
        allowed = allowed_roles(e)
        if allowed is None:
            continue  # reported by test_every_route_is_public_or_protected
        anonymous = client.request(e.method, e.url)
        if anonymous.status_code != 401:
            failures.append(f"{e.method} {e.path} without credentials → {anonymous.status_code}, want 401")
        for role in ROLES:
            if role in allowed:
                continue
            r = client.request(e.method, e.url, headers=headers[role])
            checked += 1
            if r.status_code != 403:
                failures.append(f"{e.method} {e.path} as {role} → {r.status_code}, want 403")
    assert not failures, "\n".join(failures)
    assert checked > 0


def test_matrix_sees_a_forbidden_role() -> None:
    """The walk itself works: the audit log is admin-only, so every other role is refused there."""
    audit = next(e for e in endpoints(create_app()) if e.path == "/api/v1/identity/audit")
    assert allowed_roles(audit) == {ADMIN}
