"""FastAPI dependencies that protect every non-public endpoint.

    @router.get("/api/v1/loans/{loan_id}")
    def get_loan(loan_id: int, who: Principal = Depends(require_roles("risk_officer", "finance"))): ...

Credentials: `Authorization: Bearer <api key>` (merchant systems, scripts) or the page session cookie.
A state-changing request (POST, PUT, PATCH, DELETE) signed in by cookie must also carry the CSRF token
(form field `csrf_token` or header `X-CSRF-Token`); Bearer requests need none, since a browser never
adds that header on its own. `admin` passes every role check.
"""

from __future__ import annotations

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from fenqi.identity.errors import CsrfFailed, InvalidApiKey
from fenqi.identity.principal import Principal
from fenqi.identity.roles import ADMIN, MERCHANT_ROLES, check_roles
from fenqi.identity.service import principal_for_api_key
from fenqi.identity.sessions import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, principal_for_session
from fenqi.identity.tokens import csrf_token_for, same
from fenqi.kit.errors import Forbidden, Unauthorized
from fenqi.kit.web import SessionDep

__all__ = ["Principal", "current_principal", "ensure_merchant", "optional_principal", "require_roles"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token sent with an unsafe request (the form is parsed once; Starlette caches it)."""
    if request.method in SAFE_METHODS:
        return None
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(_FORMS):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _authenticate(request: Request, session: Session, submitted: str | None) -> Principal | None:
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise InvalidApiKey()
        return principal_for_api_key(session, key.strip())
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    principal = principal_for_session(session, token)
    if request.method not in SAFE_METHODS and not (submitted and same(submitted, csrf_token_for(token))):
        raise CsrfFailed()
    return principal


def current_principal(
    request: Request,
    session: SessionDep,
    submitted: str | None = Depends(submitted_csrf),
) -> Principal:
    """Whoever is signed in (any role); 401 `unauthorized` when nobody is."""
    principal = _authenticate(request, session, submitted)
    if principal is None:
        raise Unauthorized()
    request.state.principal = principal  # pages show who is signed in (base.html)
    return principal


def optional_principal(
    request: Request,
    session: SessionDep,
    submitted: str | None = Depends(submitted_csrf),
) -> Principal | None:
    """For public pages that change when someone is signed in: None instead of 401, and a stale
    session cookie counts as nobody."""
    try:
        principal = _authenticate(request, session, submitted)
    except Unauthorized:
        return None
    if principal is not None:
        request.state.principal = principal
    return principal


class RoleCheck:
    """The dependency returned by require_roles; `roles` is read by the role × route matrix test."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        check_roles(roles)
        self.roles = frozenset(roles)

    def __call__(self, principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role != ADMIN and principal.role not in self.roles:
            raise Forbidden()
        return principal

    def __repr__(self) -> str:
        return f"require_roles({', '.join(sorted(self.roles))})"


def require_roles(*roles: str) -> RoleCheck:
    """403 `forbidden` unless the principal has one of `roles` (or is admin); 401 when nobody is signed in."""
    if not roles:
        raise ValueError("require_roles needs at least one role; use current_principal for any signed-in user")
    return RoleCheck(roles)


def ensure_merchant(principal: Principal, merchant_id: int | None) -> None:
    """Clerks and merchant owners see only their own merchant's records."""
    if principal.role in MERCHANT_ROLES and principal.merchant_id != merchant_id:
        raise Forbidden()
