"""The partners' JSON API: the registry (administrators maintain it; finance and risk officers read it), the
scorecard and a pilot's comparison. Their pages are the operations console's (fenqi.web.console.partners,
fenqi.web.console.pilots)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict

from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.web import SessionDep, request_language
from fenqi.partners import pilots, service
from fenqi.partners import scorecard as sc
from fenqi.partners.indicators import BY_KEY, fmt_value
from fenqi.partners.schemas import (
    ContractIn,
    LicenceIn,
    PartnerIn,
    PartnerList,
    PartnerOut,
    PilotResultOut,
    ScorecardOut,
)
from fenqi.partners.stats import Interval

api = APIRouter(prefix="/api/v1/partners", tags=["partners"])
reports = APIRouter(prefix="/api/v1", tags=["partners"])
maintains = require_roles("admin")
reads = require_roles("admin", "finance", "risk_officer")
Code = Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")


@api.get("", response_model=PartnerList, summary="Partners with licences, contracts and whether routing may use them")
def list_partners(session: SessionDep, who: Principal = Depends(reads)) -> PartnerList:
    return PartnerList(items=service.list_partners(session))


@api.post("", response_model=PartnerOut, status_code=201, summary="Register a partner or a candidate")
def create_partner(body: PartnerIn, session: SessionDep,
                   who: Principal = Depends(maintains)) -> PartnerOut:
    return service.create_partner(session, body)


@api.get("/{code}", response_model=PartnerOut, summary="One partner")
def read_partner(code: str = Code, *, session: SessionDep,
                 who: Principal = Depends(reads)) -> PartnerOut:
    return service.get_partner(session, code)


@api.post("/{code}/licences", response_model=PartnerOut, status_code=201, summary="Record a licence")
def add_licence(body: LicenceIn, code: str = Code, *, session: SessionDep,
                who: Principal = Depends(maintains)) -> PartnerOut:
    return service.add_licence(session, code, body)


@api.post("/{code}/contracts", response_model=PartnerOut, status_code=201, summary="Record a contract")
def add_contract(body: ContractIn, code: str = Code, *, session: SessionDep,
                 who: Principal = Depends(maintains)) -> PartnerOut:
    return service.add_contract(session, code, body)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["candidate", "contracted", "ended"]


@api.put("/{code}/status", response_model=PartnerOut, summary="Contracted, candidate or ended")
def set_status(body: StatusIn, code: str = Code, *, session: SessionDep,
               who: Principal = Depends(maintains)) -> PartnerOut:
    return service.set_status(session, code, body.status)


def card_json(card: sc.Card, lang: str = "zh") -> dict[str, Any]:
    return {
        "business": card.business, "start": card.start.isoformat(), "end": card.end.isoformat(),
        "weights": {c: str(w) for c, w in card.weights.items()},
        "groups": {role: [{
            "code": r.code, "name": r.name, "rank": r.rank, "total": None if r.total is None else str(r.total),
            "criteria": {c: None if s is None else str(s) for c, s in r.criteria.items()},
            "indicators": {k: {"value": None if v.value is None else str(v.value),
                               "shown": fmt_value(k, v.value, lang), "n": v.n, "basis": v.basis,
                               "recorded": BY_KEY[k].recorded, "score": None if k not in r.scores else str(r.scores[k])}
                           for k, v in r.values.items()},
        } for r in rows] for role, rows in card.groups.items()},
        "sensitivity": {role: [{"criterion": s.criterion, "ranks": {k: list(v) for k, v in s.ranks.items()}}
                               for s in sens] for role, sens in card.sensitivity.items()},
    }


@reports.get("/partner-scorecard", response_model=ScorecardOut,
             summary="The partner scorecard: ranking, indicators with window and sample size, ±10% weight ranks")
def scorecard_api(request: Request, business: str = Query("default", max_length=40),
                  days: int = Query(sc.DEFAULT_DAYS, ge=7, le=730), *, session: SessionDep,
                  who: Principal = Depends(reads)) -> dict[str, Any]:
    card = sc.card_for(session, business, days, sc.weight_overrides(request.query_params))
    return card_json(card, request_language(request))


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


@reports.get("/partner-pilots/{pilot_id}", response_model=PilotResultOut,
             summary="A pilot's comparison: candidate and incumbent with 95% intervals and significance")
def pilot_api(pilot_id: EntityId, session: SessionDep,
              who: Principal = Depends(reads)) -> dict[str, Any]:
    return result_json(pilots.result(session, pilots.get_pilot(session, pilot_id)))


router = APIRouter()
router.include_router(api)
router.include_router(reports)
