"""Analytics' own table: plan menus shown (the funnel's first step), one row per view, no personal data (a
signed-in shopper's account id, or a hash of an anonymous visitor's cookie, to time the view to their
application)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, Fen, UtcDateTime, utcnow


class PlanView(Base):
    """A plan menu shown to a shopper: online (the shopper's phone page) or at the till (the clerk's)."""

    __tablename__ = "plan_view"
    __table_args__ = (Index("ix_plan_view_business_date", "business_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    viewed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    business_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))  # store | online
    merchant_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    store_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    clerk_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sku_code: Mapped[str] = mapped_column(String(60), default="")
    price_fen: Mapped[int] = mapped_column(Fen, default=0)
    shopper_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    visitor: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)  # sha256 of the cookie
