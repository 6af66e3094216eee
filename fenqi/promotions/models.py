"""Campaigns and what each sale reserved from a campaign's budget."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, Fen, Timestamped


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
