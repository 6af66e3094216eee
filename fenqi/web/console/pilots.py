"""Pilot pages: define a pilot, see candidate against incumbent with confidence intervals, record the
decision (administrators define and decide; finance and risk officers read)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.clock import business_date
from fenqi.kit.db import Session
from fenqi.kit.errors import DomainError
from fenqi.kit.web import SessionDep, request_language
from fenqi.partners import pilots
from fenqi.partners.errors import InvalidPartner
from fenqi.partners.report import pilot_csv
from fenqi.web.render import render

router = APIRouter()
maintains = require_roles("admin")
reads = require_roles("admin", "finance", "risk_officer")


def _list_page(request: Request, session: Session, who: Principal, error: str | None = None) -> HTMLResponse:
    kinds, names = pilots.partner_kinds_and_names(session)
    return render(request, "ops/partner_pilots.html", {
        "who": who, "pilots": pilots.list_pilots(session), "names": names,
        "candidates": pilots.pilot_candidates(session), "kinds": kinds, "metrics": pilots.METRICS,
        "channel_metrics": pilots.CHANNEL_METRICS, "decisions": pilots.DECISIONS, "error": error,
        "today": business_date(session).isoformat(),
    }, status_code=400 if error else 200)


@router.get("/ops/partners/pilots", response_class=HTMLResponse, include_in_schema=False)
def pilots_page(request: Request, session: SessionDep,
                who: Principal = Depends(reads)) -> HTMLResponse:
    return _list_page(request, session, who)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidPartner(zh="试点：日期格式为 YYYY-MM-DD", en="Pilot: dates are YYYY-MM-DD") from None


@router.post("/ops/partners/pilots", include_in_schema=False)
def create(request: Request, name: str = Form(""), candidate: str = Form(""), incumbent: str = Form(""),
           share_pct: str = Form(""), starts_on: str = Form(""), ends_on: str = Form(""),
           metrics: list[str] = Form([]), *, session: SessionDep,
           who: Principal = Depends(maintains)) -> Response:
    try:
        try:
            share = Decimal(share_pct.strip()) / 100
        except InvalidOperation:
            raise InvalidPartner(zh="试点：比例须为数字（%）", en="Pilot: the share is a number (%)") from None
        with session.begin_nested():
            pilot = pilots.create_pilot(session, name=name, candidate=candidate, incumbent=incumbent or None,
                                        share=share, starts_on=_day(starts_on), ends_on=_day(ends_on),
                                        metrics=metrics, user_id=who.user_id)
    except DomainError as exc:
        return _list_page(request, session, who, exc.message(request_language(request)))
    return RedirectResponse(f"/ops/partners/pilots/{pilot.id}", 303)


def _pilot_page(request: Request, session: Session, who: Principal, pilot_id: int, error: str | None = None
                ) -> HTMLResponse:
    r = pilots.result(session, pilots.get_pilot(session, pilot_id))
    return render(request, "ops/partner_pilot.html", {
        "who": who, "r": r, "metrics": pilots.ALL_METRICS, "rate_metrics": pilots.RATE_METRICS,
        "decisions": pilots.DECISIONS,
        "error": error, "observed": None if r.routed == 0 else Decimal(r.to_candidate * 100) / r.routed,
    }, status_code=400 if error else 200)


@router.get("/ops/partners/pilots/{pilot_id}", response_class=HTMLResponse, include_in_schema=False)
def pilot_page(request: Request, pilot_id: EntityId, session: SessionDep,
               who: Principal = Depends(reads)) -> HTMLResponse:
    return _pilot_page(request, session, who, pilot_id)


@router.post("/ops/partners/pilots/{pilot_id}/decision", include_in_schema=False)
def decide(request: Request, pilot_id: EntityId, decision: str = Form(""), note: str = Form(""),
           new_end: str = Form(""), *, session: SessionDep,
           who: Principal = Depends(maintains)) -> Response:
    try:
        with session.begin_nested():
            pilots.decide(session, pilot_id, decision=decision, note=note, user_id=who.user_id,
                          user_name=who.display_name,
                          new_end=_day(new_end) if new_end.strip() else None)
    except DomainError as exc:
        return _pilot_page(request, session, who, pilot_id, exc.message(request_language(request)))
    return RedirectResponse(f"/ops/partners/pilots/{pilot_id}", 303)


@router.get("/ops/partners/pilots/{pilot_id}/report.csv", include_in_schema=False)
def pilot_report(pilot_id: EntityId, session: SessionDep,
                 who: Principal = Depends(reads)) -> Response:
    """The pilot's comparison as CSV (UTF-8 with a BOM)."""
    r = pilots.result(session, pilots.get_pilot(session, pilot_id))
    return Response(pilot_csv(r), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="pilot-{pilot_id}.csv"'})
