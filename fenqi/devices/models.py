"""Tables of the device lock: the policy per product, each financed phone's lock record, its history.

A phone's lock record is created at handover (the phone sold on a loan) and lives with that loan; a
phone resold after a return gets a new record for the new loan. The check-in token is stored only as
its SHA-256 (the token itself is 32 random bytes, shown once at enrolment).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.devices.policy import LockState
from fenqi.kit.db import Base, BigId, Timestamped, UtcDateTime, utcnow


class LockPolicy(Timestamped, Base):
    """Per product (by code): when a financed phone is locked. Products without one use the settings."""

    __tablename__ = "device_lock_policy"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_code: Mapped[str] = mapped_column(String(32), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    lock_after_dpd: Mapped[int] = mapped_column(Integer, default=7)
    warn_lead_hours: Mapped[int] = mapped_column(Integer, default=24)


class LockDevice(Timestamped, Base):
    __tablename__ = "device_lock"
    __table_args__ = (
        UniqueConstraint("loan_id", "imei", name="uq_device_lock_loan_imei"),
        Index("ix_device_lock_loan_state", "loan_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigInteger)
    imei: Mapped[str] = mapped_column(String(15), index=True)
    state: Mapped[str] = mapped_column(String(12), default=LockState.NORMAL)
    # The policy copied at handover (the contract's terms do not change with the product's).
    lock_after_dpd: Mapped[int] = mapped_column(Integer, default=7)
    warn_lead_hours: Mapped[int] = mapped_column(Integer, default=24)
    lock_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    warned_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # warned_at + warn_lead_hours: no lock before this moment.
    lock_allowed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    locked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    release_cancel_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    released_for: Mapped[str | None] = mapped_column(String(16), nullable=True)  # payoff | return | exchange
    # A payoff's release cancelled by staff: the payoff no longer releases the phone by itself (staff do).
    release_held: Mapped[bool] = mapped_column(Boolean, default=False)
    # The check-in credential: SHA-256 of the token (None until the agent is enrolled).
    token_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The highest counter the device has used: a check-in must bring a higher one (no replay).
    counter: Mapped[int] = mapped_column(BigInteger, default=0)
    last_checkin_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class LockEvent(Base):
    """Every change of a device's lock state, and the warnings, enrolments and pushes around them."""

    __tablename__ = "device_lock_event"
    __table_args__ = (Index("ix_device_lock_event_device", "device_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(BigInteger)
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(24))  # state | warning | enrolled | push_unlock | release_cancelled
    from_state: Mapped[str | None] = mapped_column(String(12), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(12), nullable=True)
    reason: Mapped[str] = mapped_column(String(24))  # cob | checkin | payment | payoff | return | exchange | staff
    business_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    detail: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
