"""Funding tables: partners (banks, consumer-finance companies), what they fund, quotas, routing, disbursements."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, ExactDecimal, Fen, Timestamped


class Funder(Timestamped, Base):
    __tablename__ = "funder"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24), default="bank")  # bank | consumer_finance
    # Quotas are amounts financed (fen) per business day and per calendar month of business dates.
    daily_quota_fen: Mapped[int] = mapped_column(Fen)
    monthly_quota_fen: Mapped[int] = mapped_column(Fen)
    # Province codes (two digits, e.g. "31"); an empty list means nationwide.
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A training funder (培训模式): funds only training merchants' practice sales; never routed to for a
    # real sale, and a training sale is never routed to a real funder.
    training: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class FunderProduct(Base):
    """A kind of loan a funder takes: methods and terms, the funder's own annual rate and the worst grade."""

    __tablename__ = "funder_product"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    funder_id: Mapped[int] = mapped_column(BigId, ForeignKey("funder.id"), index=True)
    methods: Mapped[list[str]] = mapped_column(JSON)
    terms: Mapped[list[int]] = mapped_column(JSON)
    annual_rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    min_grade: Mapped[str] = mapped_column(String(1), default="C")  # A best … E worst


class QuotaUsage(Base):
    """Amount financed per funder and period ("D2026-11-28", "M2026-11"), consumed by a conditional UPDATE."""

    __tablename__ = "funder_quota_usage"
    __table_args__ = (UniqueConstraint("funder_id", "period_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    funder_id: Mapped[int] = mapped_column(BigId, ForeignKey("funder.id"))
    period_key: Mapped[str] = mapped_column(String(12))
    used_fen: Mapped[int] = mapped_column(Fen, default=0)


class RoutingPolicy(Timestamped, Base):
    """Versioned routing configuration: the newest row is in force; older rows are the history."""

    __tablename__ = "routing_policy"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    strategy: Mapped[str] = mapped_column(String(24))  # lowest_cost | quota_balancing | priority
    priority_list: Mapped[list[str]] = mapped_column(JSON, default=list)
    pilot_funder: Mapped[str | None] = mapped_column(String(40), nullable=True)
    pilot_share: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    note: Mapped[str] = mapped_column(String(200), default="")


class Disbursement(Timestamped, Base):
    """放款: what the funder pays the merchant for one signed contract."""

    __tablename__ = "disbursement"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    loan_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    funder_id: Mapped[int] = mapped_column(BigId, ForeignKey("funder.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(BigId, index=True)
    business_date: Mapped[date] = mapped_column(Date, index=True)
    price_fen: Mapped[int] = mapped_column(Fen)
    down_payment_fen: Mapped[int] = mapped_column(Fen)
    financed_fen: Mapped[int] = mapped_column(Fen)
    subsidy_fen: Mapped[int] = mapped_column(Fen)
    merchant_fee_fen: Mapped[int] = mapped_column(Fen)
    amount_fen: Mapped[int] = mapped_column(Fen)
    journal_ref: Mapped[str] = mapped_column(String(80))
    # A returned phone (退货): the disbursement reversed on this business date (fenqi.funding.disbursement).
    unwound_on: Mapped[date | None] = mapped_column(Date, nullable=True)
