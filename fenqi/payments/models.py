"""Payment tables: orders, the callback inbox, refunds, auto-debit agreements, reconciliation runs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, Fen, Timestamped, UtcDateTime, utcnow


class PaymentOrder(Timestamped, Base):
    """One attempt to collect money through a channel.

    status: pending → paid | closed | failed; closed → paid (a payment that arrives after we gave up
    is still the shopper's money and is applied); paid → refunded once refunds reach the amount.
    """

    __tablename__ = "payment_order"
    __table_args__ = (
        Index("ix_payment_order_status_expires", "status", "expires_at"),
        Index("ix_payment_order_channel_paid", "channel", "paid_at"),
        Index("ix_payment_order_created", "created_at"),  # the cashier's routing window (routing.py)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    out_trade_no: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))  # down_payment | installment | payoff
    amount_fen: Mapped[int] = mapped_column(Fen)
    subject: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    loan_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    application_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    agreement_id: Mapped[int | None] = mapped_column(ForeignKey("payment_agreement.id"), nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # auto-debit: the installment's due date
    pay_url: Mapped[str] = mapped_column(Text, default="")
    trade_no: Mapped[str] = mapped_column(String(64), default="")
    business_date: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    paid_amount_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    refunded_fen: Mapped[int] = mapped_column(Fen, default=0)
    settlement_key: Mapped[str] = mapped_column(String(160), default="")  # the journal entry's idempotency key
    failure_reason: Mapped[str] = mapped_column(String(120), default="")
    # 花呗分期 (Alipay only): periods (3/6/12, None for a plain payment), who pays the platform's fee
    # (hb_fq_seller_percent: 0 the shopper, 100 the merchant) and the fee our fee table expects.
    hb_fq_num: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hb_fq_seller_percent: Mapped[int] = mapped_column(Integer, default=0)
    hb_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    # A training sale's order (培训模式): never sent to a channel; the clerk settles it with a practice
    # payment, and it is left out of the channels' figures and reconciliation.
    training: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def hb_merchant_fee_fen(self) -> int:
        """The part of the platform's fee the merchant pays (deducted from the settlement)."""
        return self.hb_fee_fen * self.hb_fq_seller_percent // 100 if self.hb_fq_num else 0

    @property
    def hb_shopper_fee_fen(self) -> int:
        return self.hb_fee_fen - self.hb_merchant_fee_fen if self.hb_fq_num else 0


class CallbackInbox(Base):
    """Every verified notification (and every result found by polling), once per (channel, event id)."""

    __tablename__ = "payment_callback_inbox"
    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(12))  # callback | poll | debit
    out_trade_no: Mapped[str] = mapped_column(String(64), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen, default=0)
    payload: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="received")  # processed | rejected | ignored
    note: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PaymentRefund(Timestamped, Base):
    """status: processing → succeeded | failed."""

    __tablename__ = "payment_refund"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    refund_ref: Mapped[str] = mapped_column(String(120), unique=True)  # the caller's idempotency key
    out_refund_no: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("payment_order.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    reason: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="processing")
    refund_no: Mapped[str] = mapped_column(String(64), default="")
    succeeded_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class PaymentAgreement(Timestamped, Base):
    """An auto-debit agreement (支付宝商户代扣 / 微信委托代扣) for one loan. status: pending | active | stopped."""

    __tablename__ = "payment_agreement"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_no: Mapped[str] = mapped_column(String(40), unique=True)
    agreement_no: Mapped[str] = mapped_column(String(64), default="")
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    sign_url: Mapped[str] = mapped_column(Text, default="")


class ReconciliationRun(Timestamped, Base):
    """One channel's statement day: running it again updates this row and its items (never a second run)."""

    __tablename__ = "payment_reconciliation_run"
    __table_args__ = (UniqueConstraint("channel", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # who ran it last (None: a job/CLI)
    runs: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    discrepancies: Mapped[int] = mapped_column(Integer, default=0)
    channel_total_fen: Mapped[int] = mapped_column(Fen, default=0)
    our_total_fen: Mapped[int] = mapped_column(Fen, default=0)


class ReconciliationItem(Base):
    """One discrepancy and the correcting action proposed for finance to approve.

    category: long (长款: the channel has it, we don't) | short (短款: we have it, the channel doesn't)
    | amount_mismatch | status_mismatch. action_status: proposed → approved | rejected, or resolved
    (a later run of the day no longer finds it). `proposed_by`: who ran the reconciliation that
    proposed it — the approver must be someone else (maker–checker).
    """

    __tablename__ = "payment_reconciliation_item"
    # One item per discrepancy of a statement day, however often the day is reconciled.
    __table_args__ = (UniqueConstraint("run_id", "kind", "out_trade_no", "out_refund_no"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payment_reconciliation_run.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(8))  # pay | refund
    out_trade_no: Mapped[str] = mapped_column(String(64))
    out_refund_no: Mapped[str] = mapped_column(String(64), default="")
    channel_amount_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    our_amount_fen: Mapped[int | None] = mapped_column(Fen, nullable=True)
    detail: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(40))
    action_status: Mapped[str] = mapped_column(String(12), default="proposed")
    proposed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class EmulatorRecord(Base):
    """What a local gateway emulator remembers (demo and tests only; never used in production): one open
    trade with its refunds, or one withholding agreement, as JSON. Kept in the database so that a restarted
    demo, or a second web process, still knows them — as a real channel would."""

    __tablename__ = "payment_emulator_record"
    __table_args__ = (UniqueConstraint("channel", "kind", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # trade | agreement
    key: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
