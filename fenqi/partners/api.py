"""HTTP and the operations page for the partner registry (administrators maintain it; finance and
risk officers read it)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict

from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.web import SessionDep
from fenqi.partners import pages as partner_pages
from fenqi.partners import pilot_pages, service
from fenqi.partners.indicators import ROLE_LABELS, STATUS_LABELS
from fenqi.partners.schemas import ContractIn, LicenceIn, PartnerIn, PartnerList, PartnerOut
from fenqi.web.render import render

api = APIRouter(prefix="/api/v1/partners", tags=["partners"])
pages = APIRouter(include_in_schema=False)
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


@pages.get("/ops/partners", response_class=HTMLResponse)
def partners_page(request: Request, session: SessionDep,
                  who: Principal = Depends(reads)) -> HTMLResponse:
    return render(request, "ops/partners.html", {
        "partners": service.list_partners(session), "roles": ROLE_LABELS, "statuses": STATUS_LABELS,
        "licences": service.LICENCE_NAMES,
    })


router = APIRouter()
router.include_router(api)
router.include_router(pages)
router.include_router(partner_pages.router)
router.include_router(pilot_pages.router)
