"""HTTP: campaigns (活动) — merchant owners run their own; administrators any merchant's."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict

from fenqi.identity.deps import Principal, ensure_merchant, require_roles
from fenqi.identity.roles import MERCHANT_ROLES
from fenqi.kit.db import Session
from fenqi.kit.web import SessionDep
from fenqi.promotions import service
from fenqi.promotions.errors import InvalidCampaign
from fenqi.promotions.pages import router as pages_router
from fenqi.promotions.schemas import CampaignIn, CampaignOut

api = APIRouter(prefix="/api/v1/campaigns", tags=["promotions"])
runs = require_roles("merchant_owner", "admin")
sees = require_roles("merchant_owner", "clerk", "admin", "finance")
Code = Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")


class CampaignList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[CampaignOut]


def _mine(session: Session, who: Principal, code: str) -> CampaignOut:
    found = service.get_campaign(session, code)
    ensure_merchant(who, found.merchant_id)
    return found


@api.get("", response_model=CampaignList, summary="Campaigns with their budget, spent and sales")
def list_campaigns(session: SessionDep, who: Principal = Depends(sees)) -> CampaignList:
    return CampaignList(items=service.list_campaigns(session, who.merchant_id if who.role in MERCHANT_ROLES else None))


@api.post("", response_model=CampaignOut, status_code=201, summary="Start a campaign with a subsidy budget")
def create_campaign(
    body: CampaignIn, session: SessionDep, who: Principal = Depends(runs)
) -> CampaignOut:
    merchant_id = body.merchant_id if who.role == "admin" else who.merchant_id
    if merchant_id is None:
        raise InvalidCampaign("请指定承担贴息的商户 / name the merchant paying the subsidy")
    ensure_merchant(who, merchant_id)
    return service.create_campaign(session, body, merchant_id=merchant_id, actor_user_id=who.user_id)


@api.get("/{code}", response_model=CampaignOut, summary="One campaign")
def read_campaign(
    code: str = Code, *, session: SessionDep, who: Principal = Depends(sees)
) -> CampaignOut:
    return _mine(session, who, code)


@api.post("/{code}/stop", response_model=CampaignOut, summary="Stop a campaign (sales in progress keep it)")
def stop_campaign(
    code: str = Code, *, session: SessionDep, who: Principal = Depends(runs)
) -> CampaignOut:
    _mine(session, who, code)
    return service.stop_campaign(session, code)


# The domain's router: the JSON API and the merchant console's campaigns page.
router = APIRouter()
router.include_router(api)
router.include_router(pages_router)
