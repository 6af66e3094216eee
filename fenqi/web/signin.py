"""Sign-in pages: shoppers by mobile number and one-time code, staff by username and password; logout;
"my account"; and the sign-in form a browser gets instead of a 401/403 (fenqi.api's error handler).
The operations pages of the notification outbox and the audit log are in fenqi.web.console.identity."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from sqlalchemy.orm import Session

from fenqi.identity.deps import Principal, current_principal
from fenqi.identity.errors import AgreementRequired
from fenqi.identity.otp import TEMPLATE, challenge_by_ref, send_login_code, verify_login_code
from fenqi.identity.outbox import latest_notification, text_to_send
from fenqi.identity.roles import HOME, LABELS, SHOPPER
from fenqi.identity.service import audit, authenticate_password, begin_password_attempt
from fenqi.identity.sessions import (
    SESSION_COOKIE,
    check_csrf,
    clear_session_cookie,
    end_session,
    set_session_cookie,
    start_session,
)
from fenqi.kit.crypto import decrypt
from fenqi.kit.errors import DomainError
from fenqi.kit.settings import get_settings
from fenqi.kit.web import SessionDep, commit_early, request_language
from fenqi.web.render import render

if TYPE_CHECKING:
    from fenqi.identity.models import User

router = APIRouter(include_in_schema=False)
OptStr = Annotated[str, Form()]


def safe_next(value: str | None) -> str:
    """Only a path on this site: never "//evil.example" or "https://..." (an open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return ""


def client_address(request: Request) -> str:
    """The caller's address as the ASGI server reports it (behind a proxy: see fenqi.identity.limits)."""
    return request.client.host if request.client else "unknown"


def landing(request: Request, role: str, next_path: str) -> str:
    if next_path:
        return next_path
    home = HOME.get(role, "/me")
    # Included routers are nested (FastAPI ≥ 0.120 no longer flattens them): walk every route.
    paths = {route.path for route in iter_route_contexts(request.app.routes)}
    return home if home in paths else "/me"


def _signed_in(request: Request, session: Session, user: User, how: str, next_path: str) -> Response:
    token = start_session(session, user)
    audit(session, actor_user_id=user.id, action="login", subject=f"user:{user.id}", detail=how)
    response = RedirectResponse(landing(request, user.role, safe_next(next_path)), 303)
    set_session_cookie(response, token)
    commit_early(session)  # the browser follows the redirect at once: the session must exist
    return response


# --- shoppers: mobile number and one-time code -------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> HTMLResponse:
    return render(request, "identity/login_phone.html",
                  {"next": safe_next(next), "error": "", "phone": "", "agreed": False})


@router.post("/login/code")
def request_code(
    request: Request,
    phone: OptStr = "",
    agree: OptStr = "",
    next: OptStr = "",
    csrf_token: OptStr = "",
    *, session: SessionDep,
) -> Response:
    try:
        check_csrf(request, csrf_token)
        if agree != "1":  # the terms and the privacy policy, agreed to before any code is sent
            raise AgreementRequired()
        challenge = send_login_code(session, phone, client=client_address(request))
    except DomainError as exc:
        # The form again with what was typed (the number kept, even a wrong one) and the box as it was.
        return render(request, "identity/login_phone.html",
                      {"next": safe_next(next), "error": exc.message(request_language(request)), "phone": phone,
                       "agreed": agree == "1"}, status_code=exc.status)
    # `next` is URL-encoded: a page with its own query (/shop/apply?sku=..&term=..) must come back whole.
    query = f"?c={challenge.ref}" + (f"&next={quote(safe_next(next), safe='/')}" if safe_next(next) else "")
    return RedirectResponse(f"/login/verify{query}", 303)


def _verify_page(request: Request, session: Session, ref: str, next: str, error: str, status: int) -> HTMLResponse:
    challenge = challenge_by_ref(session, ref)
    demo_code = ""
    if challenge is not None and get_settings().env == "demo":
        # The demo has no SMS gateway: show what the outbox would have sent (never outside the demo).
        sms = latest_notification(session, to=decrypt(challenge.phone_enc), template=TEMPLATE)
        demo_code = text_to_send(sms) if sms else ""
    return render(request, "identity/login_verify.html", {
        "ref": ref, "next": safe_next(next), "error": error, "demo_code": demo_code,
        "phone_masked": challenge.phone_masked if challenge else "",
    }, status_code=status)


@router.get("/login/verify", response_class=HTMLResponse)
def verify_page(request: Request, c: str = "", next: str = "", *, session: SessionDep) -> HTMLResponse:
    return _verify_page(request, session, c, next, "", 200)


@router.post("/login/verify")
def verify_code(
    request: Request,
    ref: OptStr = "",
    code: OptStr = "",
    next: OptStr = "",
    csrf_token: OptStr = "",
    *, session: SessionDep,
) -> Response:
    try:
        check_csrf(request, csrf_token)
        user = verify_login_code(session, ref, code)
    except DomainError as exc:
        # Rendered, not raised: the request still commits, so the failed attempt is counted.
        return _verify_page(request, session, ref, next, exc.message(request_language(request)), exc.status)
    return _signed_in(request, session, user, "sms_code", next)


# --- staff: username and password --------------------------------------------------------------------


@router.get("/login/staff", response_class=HTMLResponse)
def staff_login_page(request: Request, next: str = "") -> HTMLResponse:
    return render(request, "identity/login_staff.html", {"next": safe_next(next), "error": "", "username": ""})


@router.post("/login/staff")
def staff_login(
    request: Request,
    username: OptStr = "",
    password: OptStr = "",
    next: OptStr = "",
    csrf_token: OptStr = "",
    *, session: SessionDep,
) -> Response:
    try:
        check_csrf(request, csrf_token)
        ticket = begin_password_attempt(session, client_address(request))
        commit_early(session)  # the client's counter is committed, not held locked, while argon2 runs
        user = authenticate_password(session, username, password, ticket=ticket)
    except DomainError as exc:
        # Rendered, not raised: the failure counter and the audit entry are committed.
        return render(request, "identity/login_staff.html",
                      {"next": safe_next(next), "error": exc.message(request_language(request)),
                       "username": username}, status_code=exc.status)
    return _signed_in(request, session, user, "password", next)


# --- signed in ---------------------------------------------------------------------------------------


@router.post("/logout")
def logout(
    request: Request,
    who: Principal = Depends(current_principal),
    *, session: SessionDep,
) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(session, token)
    audit(session, actor_user_id=who.user_id, action="logout", subject=f"user:{who.user_id}")
    response = RedirectResponse("/login/staff" if who.role != SHOPPER else "/login", 303)
    clear_session_cookie(response)
    return response


@router.get("/me", response_class=HTMLResponse)
def my_account(request: Request, who: Principal = Depends(current_principal)) -> HTMLResponse:
    return render(request, "identity/me.html", {"who": who, "role_label": LABELS[who.role]})


def login_required_page(request: Request, status: int, message: str) -> HTMLResponse:
    """What a browser sees instead of a JSON 401/403: the sign-in form (staff or shopper by the path)."""
    next_path = safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    staff = request.url.path.startswith(("/ops", "/merchant"))
    template = "identity/login_staff.html" if staff else "identity/login_phone.html"
    return render(request, template, {"next": next_path, "error": message, "username": "", "phone": ""},
                  status_code=status)
