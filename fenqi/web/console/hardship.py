"""Operations console: hardship arrangements (纾困) — proposed on a loan's page, approved or rejected by a
second person on /ops/hardship. The service enforces maker-checker; the page says why when it refuses."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.collections import hardship_requests as requests_of
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.errors import DomainError, InvalidInput
from fenqi.kit.money import parse_yuan, to_fen
from fenqi.kit.web import SessionDep, request_language
from fenqi.servicing import hardship
from fenqi.servicing.hardship_api import schedule_rows
from fenqi.web.labels import HARDSHIP
from fenqi.web.render import render
from fenqi.web.shopper.common import attempt, error_page

if TYPE_CHECKING:  # arrangements come from servicing.hardship; its table is not read here
    from fenqi.servicing.models import HardshipArrangement

router = APIRouter(include_in_schema=False)
proposers = require_roles("collector", "risk_officer", "finance")
approvers = require_roles("risk_officer", "finance")

KIND_LABELS: dict[str, tuple[str, str]] = HARDSHIP
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "proposed": ("待审批", "Waiting for approval"),
    "approved": ("已生效", "In force"),
    "rejected": ("已驳回", "Rejected"),
    "settled": ("已结清", "Settled"),
    "expired": ("已过期", "Expired"),
}


def label(table: dict[str, tuple[str, str]], code: str, lang: str) -> str:
    zh, en = table.get(code, (code, code))
    return zh if lang == "zh" else en


def arrangement_view(session: Session, arr: HardshipArrangement, lang: str) -> dict[str, Any]:
    """What a page shows of an arrangement: labels in the page's language, its schedule."""
    return {
        "a": arr, "kind": label(KIND_LABELS, arr.kind, lang), "status": label(STATUS_LABELS, arr.status, lang),
        "rows": schedule_rows(session, arr),
    }


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


Fields = Depends(_fields)


def _int(form: dict[str, str], name: str, digits: int = 4) -> int:
    raw = form.get(name, "").strip() or "0"
    if not raw.isdecimal() or len(raw) > digits:
        raise InvalidInput(name, zh="请填写整数", en="Enter a whole number")
    return int(raw)


def _propose(session: Session, loan_id: int, form: dict[str, str], who: Principal) -> HardshipArrangement:
    kind = form.get("kind", "")
    amount = form.get("settlement_amount", "").strip()
    until = form.get("valid_until", "").strip()
    try:
        valid_until = date.fromisoformat(until) if until else None
    except ValueError:
        raise InvalidInput("valid_until", zh="有效期应为日期，格式为 年-月-日，例如 2026-12-31",
                           en="The end date is written year-month-day, e.g. 2026-12-31") from None
    return hardship.propose(
        session, loan_id=loan_id, kind=kind, requested_by=who.user_id, months=_int(form, "months"),
        new_term=_int(form, "new_term"),
        settlement_fen=to_fen(parse_yuan(amount, field="settlement_amount")) if amount else 0,
        valid_until=valid_until, reason=form.get("reason", ""), request_id=_int(form, "request_id", 18) or None,
    )


@router.post("/ops/loans/{loan_id}/hardship")
def propose_page(loan_id: EntityId, request: Request, form: dict[str, str] = Fields,
                 *, session: SessionDep, who: Principal = Depends(proposers)) -> Response:
    try:
        with attempt(session):
            _propose(session, loan_id, form, who)
    except DomainError as exc:
        return error_page(request, exc, f"/ops/loans/{loan_id}#hardship")
    return RedirectResponse(f"/ops/loans/{loan_id}#hardship", 303)


@router.get("/ops/hardship", response_class=HTMLResponse)
def queue_page(request: Request, session: SessionDep,
               who: Principal = Depends(proposers)) -> HTMLResponse:
    lang = request_language(request)
    proposed = hardship.arrangements(session, status=hardship.HardshipStatus.PROPOSED)
    waiting = [arrangement_view(session, a, lang) for a in proposed]
    recent = [arrangement_view(session, a, lang) for a in hardship.arrangements(session)[:50]
              if a.status != hardship.HardshipStatus.PROPOSED]
    asked = {a.id: r for a in proposed if a.request_id is not None
             for r in requests_of.hardship_requests(session, a.loan_id) if r.id == a.request_id}
    return render(request, "ops/hardship.html", {
        "who": who, "waiting": waiting, "recent": recent, "asked": asked,
        "kinds": requests_of.PLAN_LABELS, "statuses": requests_of.STATUS_LABELS,
        "requests": requests_of.waiting_requests(session),
        "may_approve": who.role in ("risk_officer", "finance", "admin")})


def _decide(request: Request, session: Session, arrangement_id: int, who: Principal, approve: bool) -> Response:
    try:
        with attempt(session):
            if approve:
                hardship.approve(session, arrangement_id, user_id=who.user_id)
            else:
                hardship.reject(session, arrangement_id, user_id=who.user_id)
    except DomainError as exc:
        return error_page(request, exc, "/ops/hardship", status=exc.status)
    return RedirectResponse("/ops/hardship", 303)


@router.post("/ops/hardship/{arrangement_id}/approve")
def approve_page(arrangement_id: EntityId, request: Request, session: SessionDep,
                 who: Principal = Depends(approvers)) -> Response:
    return _decide(request, session, arrangement_id, who, True)


@router.post("/ops/hardship/{arrangement_id}/reject")
def reject_page(arrangement_id: EntityId, request: Request, session: SessionDep,
                who: Principal = Depends(approvers)) -> Response:
    return _decide(request, session, arrangement_id, who, False)
