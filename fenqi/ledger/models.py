"""Journal tables: entries and their lines. Insert-only: no UPDATE or DELETE (enforced by triggers,
see fenqi.ledger.dbobjects); a correction is a new, reversing entry."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fenqi.kit.db import Base, BigId, Fen, UtcDateTime, utcnow

REAL = "real"
TRAINING = "training"


class JournalEntry(Base):
    __tablename__ = "journal_entry"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Chosen by the caller; posting the same key twice returns the first entry (TigerBeetle-style ids).
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    reason: Mapped[str] = mapped_column(String(40))
    business_date: Mapped[date] = mapped_column(Date, index=True)
    loan_id: Mapped[int | None] = mapped_column(BigInteger, index=True, nullable=True)
    payment_ref: Mapped[str | None] = mapped_column(String(80), index=True, nullable=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entry.id"), nullable=True)
    memo: Mapped[str] = mapped_column(String(200), default="")
    # The book: "real", or "training" for a training store's practice (see LoanBook); the trial balance,
    # the snapshots and `fenqi ledger check` read the real book only.
    book: Mapped[str] = mapped_column(String(16), default=REAL, server_default=REAL)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class JournalLine(Base):
    __tablename__ = "journal_line"
    __table_args__ = (
        CheckConstraint("debit_fen >= 0 AND credit_fen >= 0 AND (debit_fen = 0) <> (credit_fen = 0)", name="one_side"),
        Index("ix_journal_line_loan_account", "loan_id", "account"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Deliberately no FOREIGN KEY: its per-row check cost 40% of close-of-business's bulk inserts.
    # Lines are written only with their entry, in its transaction; the journal is insert-only; and
    # `fenqi ledger check` proves that every line belongs to an entry (no orphans).
    entry_id: Mapped[int] = mapped_column(BigInteger, index=True)
    account: Mapped[str] = mapped_column(String(32))
    loan_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    debit_fen: Mapped[int] = mapped_column(Fen, default=0)
    credit_fen: Mapped[int] = mapped_column(Fen, default=0)
    book: Mapped[str] = mapped_column(String(16), default=REAL, server_default=REAL)  # its entry's book


class LoanBook(Base):
    """Loans kept in a book other than the real one: every entry posted for such a loan goes there."""

    __tablename__ = "ledger_loan_book"

    loan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    book: Mapped[str] = mapped_column(String(16))


class AccountDayBalance(Base):
    """Each account's running totals at the end of one closed business date (written by close-of-business).

    Cumulative debits and credits of every line of entries dated on or before the day, so a trial
    balance or an account's history reads one row per account per day instead of the journal.
    """

    __tablename__ = "account_day_balance"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    account: Mapped[str] = mapped_column(String(32), primary_key=True)
    debit_fen: Mapped[int] = mapped_column(Fen)
    credit_fen: Mapped[int] = mapped_column(Fen)

