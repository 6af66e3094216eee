"""HTTP: funding partners, their products and quotas, the routing policy, merchant settlement statements."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from fenqi.funding.disbursement import settlement_statement
from fenqi.funding.models import Funder
from fenqi.funding.schemas import FunderList, FunderOut, PolicyOut, StatementOut
from fenqi.funding.service import add_product, create_funder, current_policy, funder_json, get_funder, set_policy
from fenqi.identity.deps import Principal, ensure_merchant, require_roles
from fenqi.kit.bounds import Amount, EntityId
from fenqi.kit.clock import business_date
from fenqi.kit.db import Session
from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import fmt_rate, parse_rate, to_fen
from fenqi.kit.web import SessionDep

router = APIRouter(prefix="/api/v1", tags=["funding"])


class FunderIn(BaseModel):
    code: str = Field(max_length=40)
    name: str = Field(max_length=120)
    kind: str = Field("bank", description="bank | consumer_finance")
    daily_quota: Amount = Field(description="Yuan financed per business day")
    monthly_quota: Amount = Field(description="Yuan financed per month")
    regions: list[str] = Field(default_factory=list, description="Province codes; empty = nationwide")
    priority: int = Field(100, ge=0, le=1_000_000)


class FunderProductIn(BaseModel):
    methods: list[str]
    terms: list[Annotated[int, Field(ge=1, le=60)]]
    annual_rate: str = Field(description="The funder's own annual rate, e.g. \"0.075\"")
    min_grade: str = "C"


class PolicyIn(BaseModel):
    strategy: str = Field(description="lowest_cost | quota_balancing | priority")
    priority_list: list[str] = Field(default_factory=list)
    pilot_funder: str | None = None
    pilot_share: str = Field("0", description="Fraction of applications for the pilot funder, e.g. \"0.10\"")
    note: str = ""


@router.get(
    "/funders", response_model=FunderList, summary="Funding partners with their products and today's quota left",
)
def funders(
    session: SessionDep,
    _: Principal = Depends(require_roles("finance", "risk_officer")),
) -> dict[str, Any]:
    today = business_date(session)
    return {"funders": [funder_json(session, f, today) for f in session.scalars(select(Funder).order_by(Funder.code))]}


@router.post("/funders", response_model=FunderOut, status_code=201, summary="Add a funding partner")
def add_funder(
    body: FunderIn, session: SessionDep, _: Principal = Depends(require_roles("admin"))
) -> dict[str, Any]:
    funder = create_funder(session, code=body.code, name=body.name, kind=body.kind, regions=body.regions,
                           daily_quota_fen=to_fen(body.daily_quota),
                           monthly_quota_fen=to_fen(body.monthly_quota),
                           priority=body.priority)
    return funder_json(session, funder, business_date(session))


@router.post(
    "/funders/{code}/products", response_model=FunderOut, status_code=201, summary="Add a product the partner funds",
)
def add_funder_product(
    code: str, body: FunderProductIn, session: SessionDep,
    _: Principal = Depends(require_roles("admin")),
) -> dict[str, Any]:
    add_product(session, funder_code=code, methods=body.methods, terms=body.terms,
                annual_rate=parse_rate(body.annual_rate, field="annual_rate"), min_grade=body.min_grade)
    return funder_json(session, get_funder(session, code), business_date(session))


def _policy_json(session: Session) -> dict[str, Any]:
    p = current_policy(session)
    return {"strategy": p.strategy.value, "priority_list": list(p.priority_list), "pilot_funder": p.pilot_funder,
            "pilot_share": fmt_rate(p.pilot_share)}


@router.get("/funding/policy", response_model=PolicyOut, summary="The routing policy in force")
def policy(
    session: SessionDep, _: Principal = Depends(require_roles("finance", "risk_officer"))
) -> dict[str, Any]:
    return _policy_json(session)


@router.put("/funding/policy", response_model=PolicyOut, summary="Set a new routing policy version")
def put_policy(
    body: PolicyIn, session: SessionDep, _: Principal = Depends(require_roles("finance"))
) -> dict[str, Any]:
    set_policy(session, strategy=body.strategy, priority_list=body.priority_list, pilot_funder=body.pilot_funder,
               pilot_share=parse_rate(body.pilot_share, field="pilot_share"), note=body.note)
    return _policy_json(session)


@router.get(
    "/merchants/{merchant_id}/statement", response_model=StatementOut,
    summary="Merchant settlement statement (disbursements)",
)
def statement(
    merchant_id: EntityId,
    start: str = Query(..., alias="from", description="YYYY-MM-DD"),
    end: str = Query(..., alias="to", description="YYYY-MM-DD"),
    *, session: SessionDep,
    who: Principal = Depends(require_roles("merchant_owner", "finance")),
) -> dict[str, Any]:
    ensure_merchant(who, merchant_id)
    try:
        start_d, end_d = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise InvalidInput.saying("起止日期须为 YYYY-MM-DD", "from/to must be YYYY-MM-DD") from None
    return settlement_statement(session, merchant_id=merchant_id, start=start_d, end=end_d).to_json()
