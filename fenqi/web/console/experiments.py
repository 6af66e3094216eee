"""Operations console: A/B tests of the plan menu (/ops/experiments) — create one with its arms, start and
stop it, and read each arm's conversion and early delinquency with the significance test against the
control."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.experiments import service
from fenqi.experiments.arms import HIGHLIGHTS, ORDERS
from fenqi.experiments.results import ATTRIBUTION_DAYS, EARLY_DAYS, EARLY_DPD, results
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.errors import DomainError
from fenqi.kit.web import SessionDep, request_language
from fenqi.web.errors import page_error_text
from fenqi.web.render import render

router = APIRouter(prefix="/ops/experiments", include_in_schema=False)
viewers = require_roles("risk_officer", "finance")
runners = require_roles("risk_officer")
ARM_SLOTS = 3


async def _posted(request: Request) -> dict[str, str]:
    """The form's text fields, read on the event loop so that the endpoint can run in the thread pool."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


Posted = Depends(_posted)


def _page(request: Request, session: Session, who: Principal, error: str = "", status: int = 200,
          form: dict[str, str] | None = None) -> HTMLResponse:
    experiments = service.list_all(session)
    return render(request, "ops/experiments.html", {
        "who": who, "experiments": [(e, results(session, e)) for e in experiments],
        "statuses": service.STATUS_LABELS, "orders": ORDERS, "highlights": HIGHLIGHTS, "slots": range(ARM_SLOTS),
        "early_days": EARLY_DAYS, "early_dpd": EARLY_DPD, "attribution_days": ATTRIBUTION_DAYS, "error": error,
        "v": form or {}, "lang": request_language(request),
    }, status_code=status)


@router.get("", response_class=HTMLResponse)
def experiments_page(request: Request, who: Principal = Depends(viewers), *, session: SessionDep) -> HTMLResponse:
    return _page(request, session, who)


def arms_from_form(form: dict[str, str]) -> list[dict[str, Any]]:
    """The form's arm rows: a row without a code is left out."""
    return [{"code": form.get(f"arm{i}_code", "").strip(), "weight": form.get(f"arm{i}_weight", "").strip(),
             "order": form.get(f"arm{i}_order", ""), "highlight": form.get(f"arm{i}_highlight", "")}
            for i in range(ARM_SLOTS) if form.get(f"arm{i}_code", "").strip()]


@router.post("", response_model=None)
def create(request: Request, form: dict[str, str] = Posted, who: Principal = Depends(runners), *,
           session: SessionDep) -> Response:
    try:
        with session.begin_nested():
            service.create(session, code=form.get("code", "")[:60], name_zh=form.get("name_zh", "")[:200],
                           name_en=form.get("name_en", "")[:200], arms=arms_from_form(form),
                           actor_user_id=who.user_id)
    except DomainError as exc:
        return _page(request, session, who, page_error_text(request, exc), exc.status, form)
    return RedirectResponse("/ops/experiments", status_code=303)


def _change(request: Request, session: Session, who: Principal, code: str, action: str) -> Response:
    try:
        with session.begin_nested():
            (service.start if action == "start" else service.stop)(session, code[:40], actor_user_id=who.user_id)
    except DomainError as exc:
        return _page(request, session, who, page_error_text(request, exc), exc.status)
    return RedirectResponse("/ops/experiments", status_code=303)


@router.post("/{code}/start", response_model=None)
def start(request: Request, code: str, who: Principal = Depends(runners), *, session: SessionDep) -> Response:
    return _change(request, session, who, code, "start")


@router.post("/{code}/stop", response_model=None)
def stop(request: Request, code: str, who: Principal = Depends(runners), *, session: SessionDep) -> Response:
    return _change(request, session, who, code, "stop")
