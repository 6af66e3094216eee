"""Loan accounts, their installments, repayments, and the close-of-business progress tables.

The loan's stored figures (principal outstanding, interest/fee/penalty receivable, accrued interest
and fee, credit balance) are caches of its ledger balances: every change to them is made together
with the journal entry that moves the same amount, and `fenqi ledger check` proves they agree.
The `cur_*` columns describe the current schedule period so that close-of-business can accrue a
day for every loan with one set-based statement, without joining the installment table.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, ExactDecimal, Fen, Timestamped, UtcDateTime, utcnow


class LoanStatus:
    ACTIVE = "active"
    OVERDUE = "overdue"
    PAID_OFF = "paid_off"
    CANCELLED = "cancelled"  # the phone was returned
    WRITTEN_OFF = "written_off"
    OPEN = (ACTIVE, OVERDUE)


class Loan(Timestamped, Base):
    __tablename__ = "loan"
    # Room on each page (PostgreSQL) so that the nightly UPDATE of every loan stays a HOT update.
    __table_args__ = (Index("ix_loan_status_id", "status", "id"), {"postgresql_with": {"fillfactor": 85}})

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # The caller's id for the loan (an application/contract number): booking twice returns the same loan.
    external_ref: Mapped[str] = mapped_column(String(80), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    method: Mapped[str] = mapped_column(String(24))
    financed_fen: Mapped[int] = mapped_column(Fen)
    price_fen: Mapped[int] = mapped_column(Fen, default=0)
    down_payment_fen: Mapped[int] = mapped_column(Fen, default=0)
    term: Mapped[int] = mapped_column(Integer)
    annual_rate: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    fee_rate: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    apr: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    start_date: Mapped[date] = mapped_column(Date)
    booked_on: Mapped[date] = mapped_column(Date)
    merchant_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    funder_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    customer_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    # A training store's practice loan (培训模式): booked in the ledger's training book, skipped by
    # close-of-business, left out of every report.
    training: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    status: Mapped[str] = mapped_column(String(16), default=LoanStatus.ACTIVE)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)

    # Stored figures (fen), each equal to the loan's ledger balance of the named account.
    principal_outstanding_fen: Mapped[int] = mapped_column(Fen, default=0)  # principal_receivable
    interest_accrued_fen: Mapped[int] = mapped_column(Fen, default=0)  # interest_accrued
    interest_receivable_fen: Mapped[int] = mapped_column(Fen, default=0)  # interest_receivable
    fee_accrued_fen: Mapped[int] = mapped_column(Fen, default=0)  # fee_accrued
    fee_receivable_fen: Mapped[int] = mapped_column(Fen, default=0)  # fee_receivable
    penalty_receivable_fen: Mapped[int] = mapped_column(Fen, default=0)  # penalty_receivable
    credit_balance_fen: Mapped[int] = mapped_column(Fen, default=0)  # customer_credit
    # Delinquency, as of `cob_date`.
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="current")
    oldest_unpaid_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Totals charged over the life (for the APR-cap rule and reporting).
    penalty_charged_fen: Mapped[int] = mapped_column(Fen, default=0)  # penalty interest + late fees
    cap_budget_nfen: Mapped[int] = mapped_column(BigInteger, default=0)  # nano-fen, see fenqi.servicing.rules
    written_off_fen: Mapped[int] = mapped_column(Fen, default=0)

    # Close-of-business state: the last business date closed for this loan, and the current period.
    cob_date: Mapped[date] = mapped_column(Date)
    cur_period: Mapped[int] = mapped_column(Integer, default=1)
    cur_period_start: Mapped[date] = mapped_column(Date)
    cur_due_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # None after the last period
    cur_interest_fen: Mapped[int] = mapped_column(Fen, default=0)  # interest of the current period
    cur_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    # Product settings copied at booking (the contract's terms do not change with the product).
    grace_days: Mapped[int] = mapped_column(Integer, default=3)
    penalty_rate_ppb: Mapped[int] = mapped_column(BigInteger, default=0)  # daily penalty rate × 1e9
    late_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    cap_headroom_ppb: Mapped[int] = mapped_column(BigInteger, default=0)  # (APR cap − APR) × 1e9, ≥ 0


class InstallmentStatus:
    PENDING = "pending"  # not yet due
    DUE = "due"  # due (today or earlier) and not fully paid
    PAID = "paid"
    CANCELLED = "cancelled"  # removed by early payoff, re-amortization, return or write-off


class Installment(Base):
    __tablename__ = "installment"
    __table_args__ = (
        UniqueConstraint("loan_id", "period"),
        Index("ix_installment_loan_status", "loan_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"))
    period: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    principal_fen: Mapped[int] = mapped_column(Fen)
    interest_fen: Mapped[int] = mapped_column(Fen)
    fee_fen: Mapped[int] = mapped_column(Fen)
    paid_principal_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_interest_fen: Mapped[int] = mapped_column(Fen, default=0)
    paid_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    status: Mapped[str] = mapped_column(String(12), default=InstallmentStatus.PENDING)
    late_fee_charged: Mapped[bool] = mapped_column(Boolean, default=False)
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Repayment(Base):
    """One payment applied to a loan; unique by the payment's id, so it is applied at most once."""

    __tablename__ = "repayment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    payment_ref: Mapped[str] = mapped_column(String(80), unique=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(Fen)
    business_date: Mapped[date] = mapped_column(Date)
    penalty_fen: Mapped[int] = mapped_column(Fen, default=0)
    fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    interest_fen: Mapped[int] = mapped_column(Fen, default=0)
    principal_fen: Mapped[int] = mapped_column(Fen, default=0)
    prepayment_fee_fen: Mapped[int] = mapped_column(Fen, default=0)
    credit_fen: Mapped[int] = mapped_column(Fen, default=0)  # change of the credit balance (< 0: used)
    recovery_fen: Mapped[int] = mapped_column(Fen, default=0)
    entry_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CobRun(Base):
    """One close-of-business of one business date, split into chunks of loan ids."""

    __tablename__ = "cob_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_date: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[str] = mapped_column(String(12), default="running")  # running | done
    chunk_size: Mapped[int] = mapped_column(Integer)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CobChunk(Base):
    __tablename__ = "cob_chunk"
    __table_args__ = (UniqueConstraint("run_id", "lo_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("cob_run.id"))
    lo_id: Mapped[int] = mapped_column(BigInteger)
    hi_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | done
    loans: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(60), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class CobScratch(Base):
    """Per-chunk working figures of one close-of-business step (computed once, then posted and applied).

    Not part of the books: rows live only inside the chunk's transaction and are deleted before it commits.
    """

    __tablename__ = "cob_scratch"

    chunk_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    a: Mapped[int] = mapped_column(BigInteger, default=0)
    b: Mapped[int] = mapped_column(BigInteger, default=0)
    c: Mapped[int] = mapped_column(BigInteger, default=0)
    d: Mapped[int] = mapped_column(BigInteger, default=0)


class LoanDayBalance(Base):
    """A loan as it stood at the end of one closed business date (written by close-of-business).

    One row per loan per day while the loan is open, and a last row on the day it closes: history
    (outstanding per day, vintages, roll rates) reads these rows instead of replaying journal lines.
    Money columns are the loan's ledger balances (normal side) that day; `written_off_fen` is cumulative.
    """

    __tablename__ = "loan_day_balance"
    __table_args__ = (Index("ix_loan_day_balance_loan", "loan_id", "business_date"),)

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    dpd: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(8))
    principal_fen: Mapped[int] = mapped_column(Fen)  # principal_receivable
    interest_accrued_fen: Mapped[int] = mapped_column(Fen)
    interest_receivable_fen: Mapped[int] = mapped_column(Fen)
    fee_accrued_fen: Mapped[int] = mapped_column(Fen)
    fee_receivable_fen: Mapped[int] = mapped_column(Fen)
    penalty_fen: Mapped[int] = mapped_column(Fen)  # penalty_receivable
    credit_fen: Mapped[int] = mapped_column(Fen)  # customer_credit
    written_off_fen: Mapped[int] = mapped_column(Fen)


class HardshipKind:
    HOLIDAY = "holiday"  # 延期还款: N installments deferred, the schedule shifted by N periods
    REAGE = "reage"  # 再账龄: arrears moved to the end after a run of good payments, status reset
    RESTRUCTURE = "restructure"  # 重组: the outstanding re-amortized over a longer term
    SETTLEMENT = "settlement"  # 和解结清: a discounted payoff, the discount waived
    ALL = (HOLIDAY, REAGE, RESTRUCTURE, SETTLEMENT)


class HardshipStatus:
    PROPOSED = "proposed"  # made by one staff user, waiting for a second one
    APPROVED = "approved"  # applied (a settlement: the offer is open until paid or expired)
    REJECTED = "rejected"
    SETTLED = "settled"  # a settlement offer paid: the loan closed
    EXPIRED = "expired"  # a settlement offer not paid by its date
    OPEN = (PROPOSED, APPROVED)


class HardshipArrangement(Timestamped, Base):
    """One hardship arrangement (纾困方案) of a loan, from proposal to decision (maker-checker).

    `request_id` links the shopper's or the collector's hardship request in collections when there is
    one (an id only: servicing does not read collections' tables).
    """

    __tablename__ = "hardship_arrangement"
    __table_args__ = (Index("ix_hardship_arrangement_loan", "loan_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loan.id"))
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default=HardshipStatus.PROPOSED)
    months: Mapped[int] = mapped_column(Integer, default=0)  # holiday: installments deferred
    new_term: Mapped[int] = mapped_column(Integer, default=0)  # restructure: periods of the new schedule
    settlement_fen: Mapped[int] = mapped_column(Fen, default=0)  # settlement: the amount agreed
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)  # settlement: last day to pay
    paid_fen: Mapped[int] = mapped_column(Fen, default=0)  # settlement: paid towards the amount agreed
    discount_fen: Mapped[int] = mapped_column(Fen, default=0)  # settlement: waived when paid
    reason: Mapped[str] = mapped_column(String(200), default="")
    requested_by: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # business date of the decision
    apr: Mapped[Decimal | None] = mapped_column(ExactDecimal(), nullable=True)  # of the new schedule
    entry_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    request_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
