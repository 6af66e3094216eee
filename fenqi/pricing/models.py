"""Installment products as data: what a plan may be, who bears its cost, how servicing treats it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, ExactDecimal, Fen, Timestamped


class Product(Timestamped, Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    method: Mapped[str] = mapped_column(String(24))
    terms: Mapped[list[int]] = mapped_column(JSON)
    annual_rate: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    fee_rate: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    down_payment_min_pct: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    down_payment_max_pct: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal("0.9"))
    financed_min_fen: Mapped[int] = mapped_column(Fen, default=10_000)
    financed_max_fen: Mapped[int] = mapped_column(Fen, default=5_000_000)
    # "shopper": the shopper pays interest/fees; "merchant": interest-free, the merchant pays a subsidy.
    cost_bearer: Mapped[str] = mapped_column(String(16), default="shopper")
    funder_rate: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Servicing settings.
    grace_days: Mapped[int] = mapped_column(Integer, default=3)
    penalty_daily_rate: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal("0.0005"))
    late_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    prepayment_fee_rate: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    # "to_date": interest accrued to the payoff date; "full_period": the current period's whole interest.
    prepayment_interest_rule: Mapped[str] = mapped_column(String(16), default="to_date")
    allocation_order: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["penalty", "fee", "interest", "principal"]
    )
