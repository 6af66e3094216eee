"""HTTP for risk officers: decisions (make, explain, look up, re-run), the review queue, the policy
versions, the risk list and the model. Origination calls `fenqi.risk.service.decide` directly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import Amount, EntityId
from fenqi.kit.db import utcnow
from fenqi.kit.idempotency import bind, remember_body
from fenqi.kit.web import SessionDep
from fenqi.risk import monitoring, scorecard, service
from fenqi.risk import policy as policies
from fenqi.risk.responses import ExplainedDecision, MonitoringOut, RulesOut
from fenqi.risk.rules import Policy
from fenqi.risk.schemas import (
    DecisionOut,
    ListEntryOut,
    ReplayOut,
    ReviewQueue,
    RiskList,
    RiskStats,
    ScorecardOut,
    input_from_json,
)

api = APIRouter(prefix="/api/v1/risk", tags=["risk"])
officer = require_roles("risk_officer")

_EXAMPLE: dict[str, Any] = {
    "age": 32, "is_full_time_student": False, "employment": "employed", "employment_years": 4,
    "monthly_income": "12000.00", "housing": "rent", "bank_account": "salary", "savings": "5k_20k",
    "assets": "none", "existing_loans": 0, "open_loans": 0, "price": "5999.00", "financed": "4999.00",
    "installment": "444.17", "term": 12, "product_code": "EI-12", "id_hash": "9f2c…(blind index)",
    "phone_hash": "41ab…(blind index)", "device_imei": "356938035643809",
}


class RiskInputIn(BaseModel):
    """An application as the risk engine sees it; amounts in yuan. Fields as in fenqi.risk.schemas.RiskInput."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"example": _EXAMPLE})

    age: int
    monthly_income: Amount
    financed: Amount
    installment: Amount
    term: int
    id_hash: str
    phone_hash: str


def _parse(body: RiskInputIn) -> Any:
    return input_from_json(body.model_dump())


@api.post("/decisions", response_model=DecisionOut, summary="Decide an application and store the decision",
          dependencies=[Depends(remember_body)])
def create_decision(
    body: RiskInputIn, request: Request, session: SessionDep, who: Principal = Depends(officer),
    idempotency_key: str | None = Header(None, max_length=100, description="A retry returns the same decision"),
) -> dict[str, Any]:
    # The key is the officer's for this path and bound to this body (fenqi.kit.idempotency): the same inputs
    # again get the stored decision, other inputs under the key a 409.
    key = bind(session, request, who.user_id, idempotency_key)
    return service.decide(session, _parse(body), idempotency_key=key).to_json()


@api.post(
    "/decisions/explain", response_model=ExplainedDecision,
    summary="What the engine would decide, with points per feature (not stored)",
)
def explain_decision(
    body: RiskInputIn, session: SessionDep, who: Principal = Depends(officer)
) -> dict[str, Any]:
    result = service.explain(session, _parse(body))
    return {**result.decision.to_json(), "points": result.points, "bins": result.bins,
            "facts": result.facts.model_dump(mode="json")}


@api.get("/decisions/{decision_id}", response_model=DecisionOut, summary="A stored decision")
def read_decision(
    decision_id: EntityId, session: SessionDep, who: Principal = Depends(officer)
) -> dict[str, Any]:
    return service.get_decision(session, decision_id).to_json()


@api.post("/decisions/{decision_id}/replay", response_model=ReplayOut, summary="Re-run a stored decision and compare")
def replay_decision(
    decision_id: EntityId, session: SessionDep, who: Principal = Depends(officer)
) -> dict[str, Any]:
    result = service.replay(session, decision_id)
    return {"reproduced": result.reproduced, "differences": result.differences,
            "stored": result.stored.to_json(), "replayed": result.replayed.to_json()}


@api.get("/reviews", response_model=ReviewQueue, summary="The manual review queue (oldest first)")
def list_reviews(
    status: Literal["pending", "approved", "declined"] = "pending",
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
    *, session: SessionDep,
    who: Principal = Depends(officer),
) -> dict[str, Any]:
    items = service.review_queue(session, status=status, limit=limit, offset=offset)
    return {"status": status, "items": [d.to_json() for d in items]}


class ReviewIn(BaseModel):
    verdict: Literal["approve", "decline"]
    note: str = Field(min_length=1, max_length=2000)


@api.post(
    "/reviews/{decision_id}", response_model=DecisionOut, summary="Approve or decline a referred decision, with a note",
)
def review_decision(
    decision_id: EntityId, body: ReviewIn, session: SessionDep, who: Principal = Depends(officer)
) -> dict[str, Any]:
    decision = service.review(
        session, decision_id, approve=body.verdict == "approve", note=body.note, reviewer_id=who.user_id
    )
    return decision.to_json()


@api.get("/rules", response_model=RulesOut, summary="The active rules version and every stored version")
def read_rules(session: SessionDep, who: Principal = Depends(officer)) -> dict[str, Any]:
    return {
        "active": policies.active_policy(session).model_dump(mode="json"),
        "versions": [
            {"version": v.version, "active": v.active, "note": v.note, "created_at": v.created_at.isoformat()}
            for v in policies.list_versions(session)
        ],
    }


class PolicyIn(BaseModel):
    config: dict[str, Any]
    note: str = ""


@api.post("/rules", response_model=Policy, summary="Publish a new rules version and make it active", status_code=201)
def publish_rules(
    body: PolicyIn, session: SessionDep, who: Principal = Depends(officer)
) -> dict[str, Any]:
    published = policies.publish(session, body.config, note=body.note, actor_user_id=who.user_id)
    service.audit_action(session, who.user_id, "risk.rules.publish", f"risk_policy:{published.version}")
    return published.model_dump(mode="json")


@api.post("/rules/{version}/activate", response_model=Policy, summary="Make a stored rules version the active one")
def activate_rules(
    version: str, session: SessionDep, who: Principal = Depends(officer)
) -> dict[str, Any]:
    activated = policies.activate(session, version)
    service.audit_action(session, who.user_id, "risk.rules.activate", f"risk_policy:{version}")
    return activated.model_dump(mode="json")


class ListEntryIn(BaseModel):
    kind: Literal["id", "phone", "device"]
    value: str = Field(description="blind-index hash for id and phone, the IMEI for device")
    reason: str = ""


def _entry_json(e: Any) -> dict[str, Any]:
    return {"id": e.id, "kind": e.kind, "value": e.value, "reason": e.reason, "created_at": e.created_at.isoformat()}


@api.get("/list", response_model=RiskList, summary="The risk list (blacklist)")
def read_list(session: SessionDep, who: Principal = Depends(officer)) -> dict[str, Any]:
    return {"items": [_entry_json(e) for e in service.list_entries(session)]}


@api.post("/list", response_model=ListEntryOut, summary="Add an identifier to the risk list", status_code=201)
def add_list_entry(
    body: ListEntryIn, session: SessionDep, who: Principal = Depends(officer)
) -> dict[str, Any]:
    entry = service.add_to_list(session, kind=body.kind, value=body.value, reason=body.reason,
                                actor_user_id=who.user_id)
    return _entry_json(entry)


@api.delete("/list/{entry_id}", summary="Remove an identifier from the risk list", status_code=204)
def remove_list_entry(
    entry_id: EntityId, session: SessionDep, who: Principal = Depends(officer)
) -> None:
    service.remove_from_list(session, entry_id, actor_user_id=who.user_id)


@api.get(
    "/stats", response_model=RiskStats, summary="Approval monitoring: outcomes, grades, mean score, queue, rules fired",
)
def read_stats(
    hours: int = Query(24, ge=1, le=24 * 90), *, session: SessionDep,
    who: Principal = Depends(officer),
) -> dict[str, Any]:
    return service.stats(session, since=utcnow() - timedelta(hours=hours))


@api.get(
    "/model", response_model=ScorecardOut,
    summary="The scorecard in use: version, held-out AUC and KS, features and points",
)
def read_model(who: Principal = Depends(officer)) -> dict[str, Any]:
    raw = scorecard.load().raw
    return {k: raw[k] for k in ("version", "scaling", "base_points", "features", "metrics", "dataset") if k in raw}


@api.get(
    "/monitoring", response_model=MonitoringOut,
    summary="Model monitoring: PSI of the score and features against training, calibration by month and grade",
)
def read_monitoring(
    days: int = Query(30, ge=1, le=366), *, session: SessionDep, who: Principal = Depends(officer),
) -> dict[str, Any]:
    return monitoring.to_json(monitoring.last_days(session, days))


# The domain's router: the JSON API (the risk officers' pages are the web's: fenqi.web.console.risk).
router = APIRouter()
router.include_router(api)
