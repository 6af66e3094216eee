"""Origination tables: applications (personal data encrypted), consents and contracts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, ExactDecimal, Fen, Timestamped, UtcDateTime, utcnow

# Statuses in which an application is "open": at most one per ID number (see `open_key`).
OPEN_STATUSES = ("submitted", "referred", "approved")


class Application(Timestamped, Base):
    __tablename__ = "application"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # The blind index of the ID number while the application is open, NULL once it closes. A unique
    # constraint on it admits one open application per person; NULLs never collide (SQLite and
    # PostgreSQL alike), so closed applications pile up freely. Two concurrent submissions for the same
    # person: the second INSERT waits for the first transaction and then fails on the constraint.
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # The client's Idempotency-Key (scoped to the user who sent it): a retried submission returns this one.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)
    channel: Mapped[str] = mapped_column(String(16), default="store")
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchant.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("store.id"))
    region: Mapped[str] = mapped_column(String(8))
    created_by_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    shopper_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    business_date: Mapped[date] = mapped_column(Date)
    # Personal data: encrypted (fenqi.kit.crypto); looked up only through the blind indexes.
    name_enc: Mapped[str] = mapped_column(Text)
    id_number_enc: Mapped[str] = mapped_column(Text)
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_enc: Mapped[str] = mapped_column(Text)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    bank_card_enc: Mapped[str] = mapped_column(Text)
    age: Mapped[int] = mapped_column(Integer)
    # The scorecard's form fields (employment, income band, housing, ...): no identifying data.
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The goods and the chosen plan.
    sku_code: Mapped[str] = mapped_column(String(60))
    device_imei: Mapped[str | None] = mapped_column(String(15), nullable=True)
    price_fen: Mapped[int] = mapped_column(Fen)
    product_code: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(24))
    term: Mapped[int] = mapped_column(Integer)
    down_payment_fen: Mapped[int] = mapped_column(Fen)
    financed_fen: Mapped[int] = mapped_column(Fen)
    installment_fen: Mapped[int] = mapped_column(Fen)
    apr: Mapped[Decimal] = mapped_column(ExactDecimal())
    # The decision (stored in full by risk; the headline is copied here for lists and routing).
    decision_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    grade: Mapped[str | None] = mapped_column(String(1), nullable=True)
    credit_limit_fen: Mapped[int] = mapped_column(Fen, default=0)
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    allowed_plans: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Funding and the sale.
    funder_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    funder_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal(), nullable=True)
    subsidy_fen: Mapped[int] = mapped_column(Fen, default=0)
    loan_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    payment_order: Mapped[str | None] = mapped_column(String(64), nullable=True)
    down_payment_paid: Mapped[bool] = mapped_column(default=False)
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The handover (交付): the phone given to the shopper at the till, by whom, on which business date; the
    # after-sales return and exchange windows count from that date.
    handed_over_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    handed_over_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    handed_over_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class Consent(Timestamped, Base):
    """One consent, separately given: which text (version and its SHA-256), when, from where, on what device."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(BigId, ForeignKey("application.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # credit_inquiry | personal_info | e_contract
    text_version: Mapped[str] = mapped_column(String(40))
    text_sha256: Mapped[str] = mapped_column(String(64))
    document_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the signed contract PDF
    agreed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ip: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Contract(Timestamped, Base):
    """A rendered e-contract; the one whose hash the shopper signs is bound to the application."""

    __tablename__ = "contract"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(BigId, ForeignKey("application.id"), index=True)
    template_version: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    # The contract's text as blocks (fenqi.origination.contract_text), the one source of the PDF and of the
    # HTML page; the borrower's name in it is masked, as in the PDF.
    document: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    funder_code: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date] = mapped_column(Date)  # the schedule in the document starts on this business date
    signed: Mapped[bool] = mapped_column(default=False)


class HuabeiSale(Timestamped, Base):
    """A phone sold for its whole price with 花呗分期 at the cashier: Alipay carries the credit, there is no
    loan of ours. The merchant is settled the price less its share of the platform's fee.

    status: pending (the phone held, the order open at Alipay) → paid → handed_over → returned (a 7-day
    return refunded through Alipay, the phone back in stock); pending → expired (the order closed unpaid,
    the phone back on the shelf; a payment arriving later still completes the sale)."""

    __tablename__ = "huabei_sale"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # online | store (the till)
    # The caller's key for this sale (a double submit gets the first sale back), scoped to the user.
    idempotency_key: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchant.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("store.id"))
    shopper_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    clerk_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sku_code: Mapped[str] = mapped_column(String(60))
    imei: Mapped[str] = mapped_column(String(15))
    price_fen: Mapped[int] = mapped_column(Fen)
    hb_fq_num: Mapped[int] = mapped_column(Integer)
    hb_fq_seller_percent: Mapped[int] = mapped_column(Integer)
    hb_fee_fen: Mapped[int] = mapped_column(Fen)
    out_trade_no: Mapped[str] = mapped_column(String(40), unique=True)
    business_date: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the business date: the return window's start
    handed_over_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    handed_over_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    refund_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
