"""Campaigns and what each sale reserved from a campaign's budget."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, ExactDecimal, Fen, Timestamped


class Campaign(Timestamped, Base):
    """A campaign offers one installment product (e.g. interest-free, merchant-paid) on chosen phones,
    stores and terms between two dates, until its budget for the merchant's subsidy is spent.

    `spent_fen` counts what sales have reserved or used; it only moves through one conditional UPDATE
    (`spent_fen + x <= budget_fen`), so two sales can never both take the last of the budget."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchant.id"))  # who pays the subsidy
    product_code: Mapped[str] = mapped_column(String(40), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    sku_codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every phone
    store_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: every store
    terms: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: every term of the product
    budget_fen: Mapped[int] = mapped_column(Fen)
    spent_fen: Mapped[int] = mapped_column(Fen, default=0)
    sales: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | stopped
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CampaignSpend(Timestamped, Base):
    """One application's subsidy charged to a campaign: reserved at approval, used at signing,
    released (given back to the budget) when the application ends unsigned."""

    __tablename__ = "campaign_spend"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaign.id"), index=True)
    application_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    subsidy_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(10), default="reserved")  # reserved | used | released


class Coupon(Timestamped, Base):
    """A coupon (优惠券) issued to one shopper: 减息券 (`rate_cut`: the plan's annual rate lowered by
    `rate_cut`) or 免息券 (`interest_free`: no interest or fee at all). The sponsoring merchant pays what
    it costs the funder, withheld from that sale's disbursement like a campaign's subsidy.

    Redeemed once, at signing, by one conditional UPDATE (`status = 'issued'` → `'redeemed'`): of two
    applications signing with the same coupon, the database lets exactly one through."""

    __tablename__ = "coupon"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # what the shopper sees and enters
    batch: Mapped[str] = mapped_column(String(40), index=True)  # the issue it belongs to (ops' name)
    kind: Mapped[str] = mapped_column(String(16))  # rate_cut | interest_free
    rate_cut: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))  # annual, e.g. 0.05
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchant.id"))  # who pays for it
    shopper_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    product_codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: any interest-bearing plan
    terms: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: every term
    min_price_fen: Mapped[int] = mapped_column(Fen, default=0)
    status: Mapped[str] = mapped_column(String(10), default="issued")  # issued | redeemed | void
    application_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the sale that redeemed it
    loan_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    subsidy_fen: Mapped[int] = mapped_column(Fen, default=0)  # what the sale's sponsor paid for it
    redeemed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reinstated: Mapped[int] = mapped_column(Integer, default=0)  # times given back after a return
    issued_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CouponClaim(Timestamped, Base):
    """The coupon an application means to use (chosen when applying): it prices the plan; the coupon is
    only redeemed when the application is signed."""

    __tablename__ = "coupon_claim"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    coupon_id: Mapped[int] = mapped_column(BigId, ForeignKey("coupon.id"), index=True)


class ShareLink(Timestamped, Base):
    """A link a clerk or store shares (`/s/{token}`) to a phone and, optionally, a plan; applications
    arriving through it are attributed to that clerk and store."""

    __tablename__ = "share_link"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(16), unique=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchant.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    clerk_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sku_code: Mapped[str] = mapped_column(String(60))
    product_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    term: Mapped[int | None] = mapped_column(Integer, nullable=True)
    visits: Mapped[int] = mapped_column(Integer, default=0)


class Attribution(Timestamped, Base):
    """An application that came through a share link."""

    __tablename__ = "attribution"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    share_link_id: Mapped[int] = mapped_column(BigId, ForeignKey("share_link.id"), index=True)
