"""Read-only selectables for reporting (analytics): which applications came through a share link (with
the link's clerk and store), which took a campaign's plan, which used a coupon."""

from __future__ import annotations

from sqlalchemy import Subquery, select

from fenqi.promotions.models import Attribution, Campaign, CampaignSpend, Coupon, CouponClaim, ShareLink


def attributions() -> Subquery:
    """One row per attributed application: the link's token, merchant, store and clerk."""
    return (
        select(Attribution.application_id, ShareLink.token, ShareLink.merchant_id,
               ShareLink.store_id.label("link_store_id"), ShareLink.clerk_user_id.label("link_clerk_user_id"))
        .join(ShareLink, ShareLink.id == Attribution.share_link_id)
        .subquery("rep_attributions")
    )


def share_links() -> Subquery:
    """One row per share link with how often it was opened."""
    return select(ShareLink.token, ShareLink.merchant_id, ShareLink.store_id, ShareLink.clerk_user_id,
                  ShareLink.sku_code, ShareLink.visits).subquery("rep_share_links")


def campaign_sales() -> Subquery:
    """One row per application that took (or reserved) a campaign's plan: the campaign and its names."""
    return (
        select(CampaignSpend.application_id, CampaignSpend.status.label("spend_status"), CampaignSpend.subsidy_fen,
               Campaign.code.label("campaign_code"), Campaign.name_zh.label("campaign_zh"),
               Campaign.name_en.label("campaign_en"))
        .join(Campaign, Campaign.id == CampaignSpend.campaign_id)
        .subquery("rep_campaign_sales")
    )


def coupon_uses() -> Subquery:
    """One row per application that chose a coupon: its kind and, once signed, what it cost."""
    return (
        select(CouponClaim.application_id, Coupon.kind, Coupon.batch, Coupon.status, Coupon.subsidy_fen)
        .join(Coupon, Coupon.id == CouponClaim.coupon_id)
        .subquery("rep_coupon_uses")
    )


def coupon_redemptions() -> Subquery:
    """One row per redeemed coupon: its kind, the business date of the signing and what it cost."""
    return select(Coupon.kind, Coupon.redeemed_on, Coupon.subsidy_fen).where(
        Coupon.status == "redeemed").subquery("rep_coupon_redemptions")
