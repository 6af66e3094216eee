"""Reminders and notices (提醒与通知): the templates, the notices of each loan, the shopper's contact
preferences, and the per-loan daily contact counters that enforce the caps."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, Fen, Timestamped, UtcDateTime

__all__ = ["ContactCounter", "ContactPreference", "NoticeTemplate", "Reminder"]


class NoticeTemplate(Timestamped, Base):
    """The wording of one kind of notice in one language, with its variables as `${name}` (the SMS
    provider's template syntax): ${amount}, ${due_date}, ${pay_link}, ${days}, and a kind's own.
    `category` says which opt-out applies: `legal` notices (due, overdue, payoff, lock warning) go
    whatever the shopper chose; `reminder` and `marketing` ones honour the opt-out."""

    __tablename__ = "notice_template"
    __table_args__ = (UniqueConstraint("kind", "lang"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(8))  # zh | en
    category: Mapped[str] = mapped_column(String(16))  # legal | reminder | marketing
    sms_code: Mapped[str] = mapped_column(String(40))  # the provider's approved template code
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Reminder(Timestamped, Base):
    """One notice to a loan's borrower, for one business date: at most one per (loan, kind, day).

    Scheduled by close-of-business (or `queue_notice`), handed to the outbox by the dispatcher when the
    rules allow (not in quiet hours, under the day's cap, not opted out), then sent and receipted there."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("loan_id", "kind", "for_date", name="uq_reminder_loan_kind_day"),
        Index("ix_reminder_status_not_before", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    customer_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    for_date: Mapped[date] = mapped_column(Date)  # the business date the notice speaks for
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # the installment's due date
    amount_fen: Mapped[int] = mapped_column(Fen, default=0)
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    extra: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: a kind's own variables
    # scheduled → queued (in the outbox) | suppressed (opted out, no verified phone, loan closed)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)  # why held or suppressed
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    notification_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ContactPreference(Timestamped, Base):
    """A shopper's choices: opt-outs, language and time zone (quiet hours are counted there)."""

    __tablename__ = "contact_preference"

    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reminder_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    marketing_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    zone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")


class ContactCounter(Base):
    """Contacts of one loan's borrower on one local day by channel (sms, call): updated only by one
    atomic statement that also checks the cap, never read-then-write."""

    __tablename__ = "contact_counter"

    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
