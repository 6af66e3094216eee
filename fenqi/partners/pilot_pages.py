"""Pilot pages and API: define a pilot, see candidate against incumbent with confidence intervals, record the
decision (administrators define and decide; finance and risk officers read)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.db import Session
from fenqi.kit.errors import DomainError
from fenqi.kit.web import SessionDep, request_language
from fenqi.partners import pilots
from fenqi.partners.errors import InvalidPartner
from fenqi.partners.models import Partner
from fenqi.partners.report import pilot_csv
from fenqi.partners.schemas import PilotResultOut
from fenqi.partners.stats import Interval
from fenqi.web.render import render

router = APIRouter()
maintains = require_roles("admin")
reads = require_roles("admin", "finance", "risk_officer")


def _candidates(session: Session) -> list[Partner]:
    """Funders with a routing code and payment platforms with a channel: what a pilot can name."""
    funders = (Partner.role == "funder") & Partner.funder_code.is_not(None)
    channels = (Partner.role == "payment_platform") & Partner.channel.is_not(None)
    return list(session.scalars(select(Partner).where(funders | channels).order_by(Partner.role, Partner.code)))


def _kinds(session: Session) -> dict[int, str]:
    return {p.id: pilots.kind_of(p) for p in session.scalars(select(Partner))}


def _names(session: Session) -> dict[int, str]:
    return {p.id: p.name for p in session.scalars(select(Partner))}


def _interval(i: Interval) -> dict[str, Any]:
    return {"estimate": i.estimate, "low": i.low, "high": i.high, "n": i.n}


def result_json(r: pilots.Result) -> dict[str, Any]:
    p = r.pilot
    return {
        "id": p.id, "name": p.name, "candidate": r.candidate_name, "incumbent": r.incumbent_name,
        "share": str(p.share), "starts_on": p.starts_on.isoformat(), "ends_on": p.ends_on.isoformat(),
        "status": p.status, "decision": p.decision, "decided_by": p.decided_by, "decided_by_name": p.decided_by_name,
        "decided_at": p.decided_at.isoformat() if p.decided_at else None, "routed": r.routed,
        "to_candidate": r.to_candidate,
        "comparisons": [{"metric": c.metric, "candidate": _interval(c.candidate), "incumbent": _interval(c.incumbent),
                         "difference": _interval(c.difference), "significant": c.significant,
                         "candidate_better": c.better} for c in r.comparisons],
    }


@router.get("/api/v1/partner-pilots/{pilot_id}", tags=["partners"], response_model=PilotResultOut,
            summary="A pilot's comparison: candidate and incumbent with 95% intervals and significance")
def pilot_api(pilot_id: EntityId, session: SessionDep,
              who: Principal = Depends(reads)) -> dict[str, Any]:
    return result_json(pilots.result(session, pilots.get_pilot(session, pilot_id)))


def _list_page(request: Request, session: Session, who: Principal, error: str | None = None) -> HTMLResponse:
    from fenqi.kit.clock import business_date

    return render(request, "ops/partner_pilots.html", {
        "who": who, "pilots": pilots.list_pilots(session), "names": _names(session),
        "candidates": _candidates(session), "kinds": _kinds(session), "metrics": pilots.METRICS,
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
