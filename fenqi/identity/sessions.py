"""Page sessions: a random token in an HttpOnly cookie, its hash in `web_session`; CSRF tokens bound to it."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.identity.errors import CsrfFailed, SessionExpired
from fenqi.identity.models import User, WebSession
from fenqi.identity.principal import Principal
from fenqi.identity.service import principal_of
from fenqi.identity.tokens import csrf_token_for, new_token, same, sha256_hex
from fenqi.kit.db import utcnow
from fenqi.kit.settings import Environment, get_settings

SESSION_COOKIE = "fenqi_session"
# Before sign-in a browser gets a random "pre-session" cookie so that the login forms carry a CSRF token
# too (a forged login would sign the victim into the attacker's account).
PRE_COOKIE = "fenqi_pre"
SESSION_HOURS = 12
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def start_session(session: Session, user: User) -> str:
    token = new_token()
    session.add(WebSession(token_hash=sha256_hex(token), user_id=user.id,
                           expires_at=utcnow() + timedelta(hours=SESSION_HOURS)))
    session.flush()
    return token


def principal_for_session(session: Session, token: str) -> Principal:
    row = session.scalar(select(WebSession).where(WebSession.token_hash == sha256_hex(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        raise SessionExpired()
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise SessionExpired()
    return principal_of(user)


def end_session(session: Session, token: str) -> int | None:
    """Revoke the session; returns its user id (None when the token was unknown)."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == sha256_hex(token)))
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row.user_id


def _secure() -> bool:
    """Production cookies are always `Secure` (TLS may end at a proxy in front of a plain-http base URL)."""
    settings = get_settings()
    return settings.env == Environment.PRODUCTION or settings.base_url.startswith("https")


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_HOURS * 3600, httponly=True, samesite="lax",
                        secure=_secure(), path="/")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def csrf_token(request: Request) -> str:
    """The token a page form must carry (hidden field `csrf_token`) or a script must send (X-CSRF-Token).
    Bound to the session cookie when signed in, else to the pre-session cookie, which is created here
    when the browser has neither (persist_csrf_anchor then sets it on the response)."""
    anchor = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_COOKIE)
    if not anchor:
        anchor = getattr(request.state, "csrf_anchor", None) or new_token()
        request.state.csrf_anchor = anchor
    return csrf_token_for(anchor)


def persist_csrf_anchor(request: Request, response: Response) -> None:
    anchor = getattr(request.state, "csrf_anchor", None)
    if anchor:
        response.set_cookie(PRE_COOKIE, anchor, max_age=SESSION_HOURS * 3600, httponly=True, samesite="lax",
                            secure=_secure(), path="/")


def check_csrf(request: Request, submitted: str | None) -> None:
    """For forms that are not behind current_principal (the sign-in forms themselves)."""
    anchor = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_COOKIE)
    if not anchor or not submitted or not same(submitted, csrf_token_for(anchor)):
        raise CsrfFailed()
