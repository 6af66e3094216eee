"""Catalog tables: merchants, stores, phone models, SKUs and the devices (by IMEI) on their shelves."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, ExactDecimal, Fen, Timestamped, UtcDateTime, utcnow


class Merchant(Timestamped, Base):
    __tablename__ = "merchant"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Province-level region code (GB/T 2260 first two digits, e.g. "31" Shanghai); funders lend by region.
    region: Mapped[str] = mapped_column(String(8))
    # The platform's fee, a fraction of the financed amount, deducted from each disbursement.
    fee_rate: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal("0.02"))
    # 花呗分期 at the cashier: who pays Alipay's installment fee (hb_fq_seller_percent), 0 the shopper,
    # 100 the merchant (the shopper sees 免息).
    hb_fq_seller_percent: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # A training merchant (培训模式): its sales, loans and payments are practice, kept out of the real
    # books and every report; `training_reset_at` is when its practice was last reset (one action).
    training: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    training_reset_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Store(Timestamped, Base):
    __tablename__ = "store"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchant.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(200), default="")


class PhoneModel(Timestamped, Base):
    __tablename__ = "phone_model"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    brand: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    specs: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class Sku(Timestamped, Base):
    __tablename__ = "sku"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    model_id: Mapped[int] = mapped_column(BigId, ForeignKey("phone_model.id"), index=True)
    storage_gb: Mapped[int] = mapped_column(Integer)
    colour_zh: Mapped[str] = mapped_column(String(40))
    colour_en: Mapped[str] = mapped_column(String(40))
    price_fen: Mapped[int] = mapped_column(Fen)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Device(Timestamped, Base):
    """One physical phone. Its status follows the lifecycle in fenqi.catalog.lifecycle."""

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    imei: Mapped[str] = mapped_column(String(15), unique=True)
    imei2: Mapped[str | None] = mapped_column(String(15), unique=True, nullable=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("sku.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("store.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="in_stock", index=True)
    application_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    loan_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # A phone sold outright for its whole price (花呗分期 at the cashier: the platform carries the credit, no
    # loan of ours): the sale that reserved or sold it (fenqi.origination.huabei_sales).
    sale_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
