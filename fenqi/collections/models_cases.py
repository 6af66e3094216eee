"""Tables of collection cases: the case of a past-due loan, promises to pay, the contact log (calls, SMS,
visits, notes — the staff notes on loans live here too) and hardship requests (the daily contact
counters are the reminders', fenqi.collections.models_reminders)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, Fen, Timestamped, UtcDateTime, utcnow


class CaseStatus:
    OPEN = "open"
    CLOSED = "closed"


class CloseReason:
    CURED = "cured"  # brought up to date
    PAID_OFF = "paid_off"
    WRITTEN_OFF = "written_off"
    SETTLED = "settled"  # a settlement offer accepted and paid (hardship)
    CANCELLED = "cancelled"  # the phone was returned


class CollectionCase(Base):
    """One episode of delinquency of one loan: opened by close-of-business at 1 day past due, closed by it
    on cure, payoff, write-off or return (or by the settlement port). At most one open case per loan."""

    __tablename__ = "collection_case"
    __table_args__ = (
        Index("uq_collection_case_open_loan", "loan_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_collection_case_status_assignee", "status", "assigned_user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(8), default=CaseStatus.OPEN)
    opened_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The loan's delinquency as of the last close (copied so the queue sorts without joining the loans).
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="M1")
    worst_bucket: Mapped[str] = mapped_column(String(8), default="M1")  # for roll rates
    overdue_fen: Mapped[int] = mapped_column(Fen, default=0)  # past due + penalty (servicing's next_bill)
    outstanding_fen: Mapped[int] = mapped_column(Fen, default=0)  # principal outstanding
    score: Mapped[int] = mapped_column(Integer, default=50)  # recovery score 0–100 (fenqi.collections.cases)
    broken_promises: Mapped[int] = mapped_column(Integer, default=0)  # raises the case in the queue
    assigned_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class PromiseStatus:
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


class PromiseToPay(Base):
    """承诺还款: the shopper promised to pay `amount_fen` by `due_on`. Close-of-business decides: kept once
    the payments on the loan since the promise was made reach the amount (or the loan is cured), broken
    when `due_on` closes without that."""

    __tablename__ = "promise_to_pay"
    __table_args__ = (Index("ix_promise_to_pay_status_loan", "status", "loan_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(BigInteger, index=True)
    loan_id: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(Fen)
    made_on: Mapped[date] = mapped_column(Date)  # business date the promise was taken
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default=PromiseStatus.PENDING)
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    paid_fen: Mapped[int] = mapped_column(Fen, default=0)  # paid since made_on, as of the decision
    user_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ContactKind:
    NOTE = "note"
    CALL = "call"
    SMS = "sms"
    VISIT = "visit"
    ALL = (NOTE, CALL, SMS, VISIT)


CALL_OUTCOMES = ("answered", "no_answer", "promised", "refused", "wrong_number", "busy")
VISIT_OUTCOMES = ("met", "not_home", "promised", "refused")


class LoanNote(Timestamped, Base):
    """The contact log of a loan: a call and its outcome, an SMS sent, a visit, or a free-text note.
    Append-only (corrections are new rows). No personal data belongs in `body`. The table keeps its
    name from when it held only the console's notes, so those rows carry over as kind `note`."""

    __tablename__ = "loan_note"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    case_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(8), default=ContactKind.NOTE, server_default=ContactKind.NOTE)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    author_user_id: Mapped[int] = mapped_column(BigInteger)
    author_name: Mapped[str] = mapped_column(String(60))
    author_role: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)


class HardshipRequest(Base):
    """A shopper's request for hardship relief (纾困), recorded from the overdue page with status
    `requested`; servicing's hardship operations decide it."""

    __tablename__ = "hardship_request"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # holiday | restructure | settlement
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="requested")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
