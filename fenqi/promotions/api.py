"""HTTP: campaigns (活动) — merchant owners run their own; administrators any merchant's."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict

from fenqi.identity.deps import Principal, ensure_merchant, require_roles
from fenqi.identity.roles import MERCHANT_ROLES
from fenqi.kit.db import Session
from fenqi.kit.web import SessionDep
from fenqi.promotions import coupons, service, share_links
from fenqi.promotions.errors import InvalidCampaign
from fenqi.promotions.schemas import (
    CampaignIn,
    CampaignOut,
    CouponIssueIn,
    CouponList,
    ShareLinkIn,
    ShareLinkOut,
)

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
        raise InvalidCampaign.saying("请指定承担贴息的商户", "name the merchant paying the subsidy")
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


coupon_api = APIRouter(prefix="/api/v1/coupons", tags=["promotions"])
issues = require_roles("admin", "finance")
shopper = require_roles("shopper")
Batch = Query(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")


@coupon_api.post("", response_model=CouponList, status_code=201,
                 summary="Issue coupons (减息券/免息券): one to each listed shopper's phone")
def issue_coupons(body: CouponIssueIn, session: SessionDep, who: Principal = Depends(issues)) -> CouponList:
    return CouponList(items=coupons.issue(session, body, actor_user_id=who.user_id))


@coupon_api.get("", response_model=CouponList, summary="The coupons of one issue, with their state")
def batch_coupons(batch: str = Batch, *, session: SessionDep, who: Principal = Depends(issues)) -> CouponList:
    return CouponList(items=coupons.list_batch(session, batch))


@coupon_api.get("/mine", response_model=CouponList, summary="The signed-in shopper's coupons")
def my_coupons(session: SessionDep, who: Principal = Depends(shopper)) -> CouponList:
    return CouponList(items=coupons.coupons_of(session, who.user_id))


link_api = APIRouter(prefix="/api/v1/share-links", tags=["promotions"])
sharers = require_roles("clerk", "merchant_owner")


class ShareLinkList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ShareLinkOut]


@link_api.post("", response_model=ShareLinkOut, status_code=201,
               summary="A share link to a phone (and plan) attributed to the clerk and store")
def create_share_link(body: ShareLinkIn, session: SessionDep, who: Principal = Depends(sharers)) -> ShareLinkOut:
    return share_links.create(session, body, merchant_id=int(who.merchant_id or 0), clerk_user_id=who.user_id)


@link_api.get("", response_model=ShareLinkList, summary="Share links (a clerk's own; an owner's whole merchant)")
def list_share_links(session: SessionDep, who: Principal = Depends(sharers)) -> ShareLinkList:
    mine = who.user_id if who.role == "clerk" else None
    return ShareLinkList(items=share_links.links_of(session, merchant_id=int(who.merchant_id or 0),
                                                    clerk_user_id=mine))


# The domain's router: the JSON API (its console pages are the web's: fenqi.web.console.promotions).
router = APIRouter()
router.include_router(api)
router.include_router(coupon_api)
router.include_router(link_api)
