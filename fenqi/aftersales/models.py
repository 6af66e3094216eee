"""After-sales tables: policies (versioned), cases, their refunds and events, repair tickets, feedback and
complaints. Amounts are integer fen; the shopper and staff are referred to by user id only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, Fen, Timestamped, UtcDateTime, utcnow


class AftersalesPolicy(Timestamped, Base):
    """One version of a merchant's after-sales policy (merchant_id NULL: the platform default). Rows are
    never changed: a new version is a new row, and each case records the version it was decided under."""

    __tablename__ = "aftersales_policy"
    __table_args__ = (UniqueConstraint("merchant_key", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    merchant_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    merchant_key: Mapped[int] = mapped_column(BigInteger)  # merchant_id, or 0 for the default (NULLs never collide)
    version: Mapped[int] = mapped_column(Integer)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CaseStatus:
    REQUESTED = "requested"  # asked for by the shopper (or opened at the desk), phone not yet inspected
    INSPECTED = "inspected"  # the desk has the phone and filled in the checklist; outcome proposed
    PROCESSING = "processing"  # an outcome chosen; its workflow is under way (refunds may be pending)
    COMPLETED = "completed"
    REFUSED = "refused"  # nothing the policy allows was wanted, or staff refused with a reason
    CANCELLED = "cancelled"  # withdrawn by the shopper before processing
    CLOSED = (COMPLETED, REFUSED, CANCELLED)


class AftersalesCase(Timestamped, Base):
    __tablename__ = "aftersales_case"
    __table_args__ = (Index("ix_aftersales_case_merchant_status", "merchant_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # The caller's Idempotency-Key, scoped by user: a retried "open" returns this case.
    idempotency_key: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    requested: Mapped[str] = mapped_column(String(12))  # return | exchange | repair (what the shopper asked)
    reason: Mapped[str] = mapped_column(String(12))  # no_reason | fault
    description: Mapped[str] = mapped_column(String(500), default="")
    part: Mapped[str] = mapped_column(String(12), default="handset")
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    application_id: Mapped[int] = mapped_column(BigInteger)
    merchant_id: Mapped[int] = mapped_column(BigInteger)
    store_id: Mapped[int] = mapped_column(BigInteger)
    shopper_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    imei: Mapped[str] = mapped_column(String(15), index=True)
    sku_code: Mapped[str] = mapped_column(String(60))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    sale_date: Mapped[date] = mapped_column(Date)
    opened_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=CaseStatus.REQUESTED, index=True)
    policy_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # NULL: the built-in default
    policy_version: Mapped[int] = mapped_column(Integer, default=0)
    inspection: Mapped[dict[str, bool] | None] = mapped_column(JSON, nullable=True)
    proposal: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)
    decided_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    deduction_fen: Mapped[int] = mapped_column(Fen, default=0)
    refund_fen: Mapped[int] = mapped_column(Fen, default=0)  # what the shopper gets back in all
    # Progress of the workflow: step name → the business date it was done (resumable; each step idempotent).
    steps: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Exchange: the phone handed out instead, the price difference and how it was settled.
    new_imei: Mapped[str | None] = mapped_column(String(15), nullable=True)
    difference_fen: Mapped[int] = mapped_column(Fen, default=0)  # > 0: the shopper pays more; < 0: less
    difference_order: Mapped[str | None] = mapped_column(String(64), nullable=True)
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(500), default="")
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class CaseRefund(Timestamped, Base):
    """One refund of a return: a payment the shopper made, refunded through its own channel. A refund the
    channel refuses is tried again under the next attempt number (a new, deterministic refund id)."""

    __tablename__ = "aftersales_refund"
    __table_args__ = (UniqueConstraint("case_id", "out_trade_no"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("aftersales_case.id"), index=True)
    out_trade_no: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(Fen)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|processing|succeeded|failed|manual
    out_refund_no: Mapped[str] = mapped_column(String(40), default="")
    last_error: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class CaseEvent(Timestamped, Base):
    """What happened to a case, a repair ticket or a complaint, in order: the progress the shopper sees and
    the trail of who chose what (staff choices are also in the audit log)."""

    __tablename__ = "aftersales_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(40), index=True)  # case:12 | repair:3 | complaint:5
    kind: Mapped[str] = mapped_column(String(40))
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    zh: Mapped[str] = mapped_column(String(300))
    en: Mapped[str] = mapped_column(String(300))


class RepairTicket(Timestamped, Base):
    """status: received → diagnosing → repairing → ready → collected; a repair that did not fix the fault
    goes back to repairing (failed_repairs + 1); → escalated when it becomes an exchange."""

    __tablename__ = "repair_ticket"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("aftersales_case.id"), unique=True)
    imei: Mapped[str] = mapped_column(String(15), index=True)
    part: Mapped[str] = mapped_column(String(12))
    fault: Mapped[str] = mapped_column(String(500))
    free: Mapped[bool] = mapped_column(Boolean)  # within the warranty
    status: Mapped[str] = mapped_column(String(12), default="received", index=True)
    received_on: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_repairs: Mapped[int] = mapped_column(Integer, default=0)
    loaner_imei: Mapped[str | None] = mapped_column(String(15), nullable=True)
    diagnosis: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class Feedback(Timestamped, Base):
    """A rating (0–10, the NPS question) after a purchase, return, exchange or repair; once per subject."""

    __tablename__ = "aftersales_feedback"
    __table_args__ = (UniqueConstraint("shopper_user_id", "about", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shopper_user_id: Mapped[int] = mapped_column(BigInteger)
    about: Mapped[str] = mapped_column(String(12))  # purchase | return | exchange | repair
    subject_id: Mapped[int] = mapped_column(BigInteger)  # the loan (purchase) or the case
    merchant_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(500), default="")


class Complaint(Timestamped, Base):
    """status: open → answered → resolved; open/answered → escalated → answered/resolved."""

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(160), unique=True, nullable=True)
    shopper_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    loan_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    merchant_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    category: Mapped[str] = mapped_column(String(16))  # device | fees | collections | staff | payment
    text: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    level: Mapped[int] = mapped_column(Integer, default=1)  # 1, then 2 once escalated
    assignee_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    respond_by: Mapped[datetime] = mapped_column(UtcDateTime())
    resolve_by: Mapped[datetime] = mapped_column(UtcDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    response: Mapped[str] = mapped_column(String(1000), default="")
    resolution: Mapped[str] = mapped_column(String(1000), default="")


class IdempotentRequest(Timestamped, Base):
    """The answer to a state-changing after-sales request, kept under the caller's Idempotency-Key (scoped
    by user): the same key again gets the same answer and changes nothing."""

    __tablename__ = "aftersales_request"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # fenqi.kit.idempotency.scope
    path: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64), default="", server_default="")  # method, path, body
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
