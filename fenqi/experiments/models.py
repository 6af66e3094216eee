"""Experiments and who was shown which arm (no personal data: a user id or a hashed visitor token)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, Timestamped, UtcDateTime, utcnow


class Experiment(Timestamped, Base):
    """An A/B test of one surface (the plan menu). `arms` is a list of {code, weight, order, highlight}; the
    first arm is the control. draft → running → stopped; only one experiment runs on a surface at a time."""

    __tablename__ = "experiment"
    __table_args__ = (  # one running experiment per surface, even under two starts at once
        Index("uq_experiment_running_surface", "surface", unique=True,
              postgresql_where=text("status = 'running'"), sqlite_where=text("status = 'running'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    surface: Mapped[str] = mapped_column(String(24), default="plan_menu")
    arms: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)  # draft | running | stopped
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Exposure(Base):
    """The first time a shopper was shown the surface while the experiment ran, and the arm shown. One row
    per shopper per experiment: `subject` is `u:<user id>` or `v:<hash of the visitor cookie>`; `user_id` is
    the signed-in shopper (set later for a visitor who then applies) and links the row to their sales."""

    __tablename__ = "experiment_exposure"
    __table_args__ = (UniqueConstraint("experiment_id", "subject"), UniqueConstraint("experiment_id", "user_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    experiment_id: Mapped[int] = mapped_column(BigId, ForeignKey("experiment.id"), index=True)
    arm: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    business_date: Mapped[date] = mapped_column(Date)
    sku_code: Mapped[str] = mapped_column(String(60), default="")
