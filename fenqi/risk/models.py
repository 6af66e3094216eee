"""Risk tables: policy versions, the risk list (blacklist), and stored decisions with their review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, Fen, Timestamped, UtcDateTime, utcnow


class RiskPolicy(Timestamped, Base):
    """One version of the credit policy (rules, cut-offs, grades). Never edited: a change is a new row."""

    __tablename__ = "risk_policy"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RiskListEntry(Timestamped, Base):
    """An identifier on the risk list: kind is id (ID-number hash), phone (phone hash) or device (IMEI)."""

    __tablename__ = "risk_list_entry"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RiskDecision(Base):
    """A decision with everything needed to make it again: the input, the facts looked up (bureau
    report, risk-list hits, velocity counts) and the policy and model versions."""

    __tablename__ = "risk_decision"
    __table_args__ = (
        # Velocity looks back an hour by each identifier.
        Index("ix_risk_decision_id_hash_decided_at", "id_hash", "decided_at"),
        Index("ix_risk_decision_phone_hash_decided_at", "phone_hash", "decided_at"),
        Index("ix_risk_decision_device_imei_decided_at", "device_imei", "decided_at"),
        Index("ix_risk_decision_review_status_decided_at", "review_status", "decided_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    application_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    merchant_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # A training store's practice decision (培训模式): the emulated bureau only, never in the review queue,
    # left out of monitoring, velocity and reports.
    training: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    id_hash: Mapped[str] = mapped_column(String(128))
    phone_hash: Mapped[str] = mapped_column(String(128))
    device_imei: Mapped[str | None] = mapped_column(String(20), nullable=True)
    outcome: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    probability_of_default: Mapped[str] = mapped_column(String(12))
    grade: Mapped[str | None] = mapped_column(String(2), nullable=True)
    credit_limit_fen: Mapped[int] = mapped_column(Fen, default=0)
    allowed_plans: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rules_fired: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    points: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    model_version: Mapped[str] = mapped_column(String(40))
    rules_version: Mapped[str] = mapped_column(String(40))
    bureau_provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # The caller's Idempotency-Key (scoped by user) when the decision was asked for over HTTP.
    idempotency_key: Mapped[str | None] = mapped_column(String(140), nullable=True, unique=True)
    # Manual review of referred decisions: none → pending → approved | declined.
    review_status: Mapped[str] = mapped_column(String(10), default="none")
    reviewed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    review_note: Mapped[str] = mapped_column(Text, default="")
