"""The partner registry: payment platforms, funders and candidates, their licences and contracts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, ExactDecimal, Timestamped, UtcDateTime


class Partner(Timestamped, Base):
    """A funder, a payment platform or an installment platform — contracted or still a candidate.

    `funder_code` links a funder to its routing record in funding (funding's own code)."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(24))  # funder | payment_platform | installment_platform
    status: Mapped[str] = mapped_column(String(12), default="candidate")  # candidate | contracted | ended
    funder_code: Mapped[str | None] = mapped_column(String(40), nullable=True, unique=True)
    # A payment platform's channel code in payments ("alipay", "wechatpay"): its measured indicators.
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")


class Licence(Timestamped, Base):
    """A licence a partner holds: 金融许可证 (financial), 支付业务许可证 (payment), with number, scope, expiry."""

    __tablename__ = "partner_licence"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # financial | payment
    number: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)


class PartnerContract(Timestamped, Base):
    """A contract with its terms (fee table, settlement days, refund rules, SLA, early/partial repayment)."""

    __tablename__ = "partner_contract"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    reference: Mapped[str] = mapped_column(String(80))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ExpiryReminder(Timestamped, Base):
    """A reminder that a licence or contract expires in 60, 30 or 7 days (one per item and threshold)."""

    __tablename__ = "partner_expiry_reminder"
    __table_args__ = (UniqueConstraint("item", "item_id", "days_before"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(BigInteger, index=True)
    item: Mapped[str] = mapped_column(String(10))  # licence | contract
    item_id: Mapped[int] = mapped_column(BigInteger)
    days_before: Mapped[int] = mapped_column()
    due_on: Mapped[date] = mapped_column(Date)  # the expiry date
    raised_on: Mapped[date] = mapped_column(Date)


class RecordedIndicator(Timestamped, Base):
    """An indicator the system cannot measure (market share, users, downtime), entered with its source and date.
    The newest by `as_of` counts."""

    __tablename__ = "partner_recorded_indicator"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    partner_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"), index=True)
    indicator: Mapped[str] = mapped_column(String(32))
    value: Mapped[Decimal] = mapped_column(ExactDecimal())
    source: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ScoreWeights(Timestamped, Base):
    """The scorecard's criterion weights for one business (e.g. "default", "online", "stores")."""

    __tablename__ = "partner_score_weights"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business: Mapped[str] = mapped_column(String(40), unique=True)
    weights: Mapped[dict[str, str]] = mapped_column(JSON)  # criterion → weight (decimal text)
    updated_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Pilot(Timestamped, Base):
    """A pilot: a candidate funder gets `share` of eligible applications over a period, judged by metrics.

    status: running → decided (decision adopt | stop) — or extended (a later end date, still running)."""

    __tablename__ = "partner_pilot"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    candidate_id: Mapped[int] = mapped_column(BigId, ForeignKey("partner.id"))
    incumbent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("partner.id"), nullable=True)
    share: Mapped[Decimal] = mapped_column(ExactDecimal())
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    metrics: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="running")
    decision: Mapped[str | None] = mapped_column(String(8), nullable=True)
    decided_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_by_name: Mapped[str] = mapped_column(String(120), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
