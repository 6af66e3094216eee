"""The ledger's service: post balanced, idempotent journal entries; read balances.

    from fenqi.ledger import Account, Line, post_entry, account_balance

    post_entry(session, reason="down_payment", idempotency_key=f"pay:{order_no}", payment_ref=order_no,
               loan_id=loan.id, lines=[Line(Account.CASH_ALIPAY, debit=100_000),
                                       Line(Account.MERCHANT_PAYABLE, credit=100_000)])

Amounts are integer fen. Services never commit; the caller's transaction boundary does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from fenqi.kit.clock import BusinessDate
from fenqi.kit.db import utcnow
from fenqi.kit.errors import NotFound
from fenqi.ledger.accounts import CHART, Account, Reason
from fenqi.ledger.errors import IdempotencyConflict, InvalidEntry, UnbalancedEntry, UnknownAccount
from fenqi.ledger.models import REAL, JournalEntry, JournalLine, LoanBook
from fenqi.ledger.snapshot import balances_on

_REASON = re.compile(r"^[a-z][a-z0-9_.]{1,39}$")


@dataclass(frozen=True, slots=True)
class Line:
    """One side of an entry: exactly one of debit or credit is a positive number of fen.

    `loan_id` defaults to the entry's loan for loan-level accounts (principal/interest/fee/penalty
    receivable, accrued interest and fee, customer credit) and may be set explicitly on any line.
    """

    account: str
    debit: int = 0
    credit: int = 0
    loan_id: int | None = None

    @staticmethod
    def dr(account: str, fen: int, loan_id: int | None = None) -> Line:
        return Line(account, debit=fen, loan_id=loan_id)

    @staticmethod
    def cr(account: str, fen: int, loan_id: int | None = None) -> Line:
        return Line(account, credit=fen, loan_id=loan_id)


def validate_lines(lines: Sequence[Line]) -> None:
    """Balanced, positive integer fen, known accounts, at least two lines."""
    if len(lines) < 2:
        raise InvalidEntry("an entry needs at least two lines")
    for line in lines:
        try:
            Account(line.account)
        except ValueError:
            raise UnknownAccount(str(line.account)) from None
        for amount in (line.debit, line.credit):
            if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                raise InvalidEntry(f"amounts are non-negative integer fen, got {amount!r}")
        if (line.debit == 0) == (line.credit == 0):
            raise InvalidEntry(f"a line is either a debit or a credit of a positive amount: {line}")
    debits, credits = sum(x.debit for x in lines), sum(x.credit for x in lines)
    if debits != credits:
        raise UnbalancedEntry(f"debits {debits} ≠ credits {credits}")


def _line_rows(entry_id: int, loan_id: int | None, lines: Sequence[Line], book: str = REAL
               ) -> list[dict[str, object]]:
    return [
        {
            "entry_id": entry_id,
            "book": book,
            "account": str(x.account),
            "loan_id": x.loan_id
            if x.loan_id is not None
            else (loan_id if CHART[Account(x.account)].per_loan else None),
            "debit_fen": x.debit,
            "credit_fen": x.credit,
        }
        for x in lines
    ]


def post_entry(
    session: Session,
    *,
    reason: str,
    lines: Sequence[Line],
    idempotency_key: str,
    business_date: date | None = None,
    loan_id: int | None = None,
    payment_ref: str | None = None,
    memo: str = "",
    reverses_id: int | None = None,
) -> JournalEntry:
    """Post one balanced entry, or return the entry already posted under `idempotency_key`.

    Posting the same key again with the same lines is a no-op that returns the first entry; with
    different lines it raises IdempotencyConflict. `business_date` defaults to the current business date.
    """
    reason = str(reason)
    if not _REASON.match(reason):
        raise InvalidEntry(f"reason code {reason!r}")
    if not idempotency_key or len(idempotency_key) > 160:
        raise InvalidEntry("idempotency_key must be 1-160 characters")
    validate_lines(lines)
    values: dict[str, object] = {
        "idempotency_key": idempotency_key,
        "reason": reason,
        "loan_id": loan_id,
        "payment_ref": payment_ref,
        "memo": memo[:200],
        "reverses_id": reverses_id,
        "created_at": utcnow(),
        "book_loan": loan_id,  # the entry's book is its loan's (`keep_in_book`), looked up in the INSERT
    }
    if business_date is not None:
        values["business_date"] = business_date
    # One round trip: ON CONFLICT DO NOTHING (a repeat, or a concurrent poster of the same key, which
    # waits for the first to commit, inserts nothing), the business date looked up inside the statement,
    # and the new entry returned as an ORM object.
    dialect = session.get_bind().dialect.name
    entry = session.scalars(_insert_entry(dialect, business_date is None), [values]).first()
    if entry is None:
        existing = session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == idempotency_key))
        assert existing is not None
        _same_or_conflict(session, existing, loan_id, lines)
        return existing
    # The lines as one executemany (batched into multi-row INSERTs by SQLAlchemy), compiled once.
    session.execute(insert(JournalLine), _line_rows(entry.id, loan_id, lines, entry.book))
    return entry


def book_of(session: Session, loan_id: int | None) -> str:
    """The book a loan's entries go to: "real" unless the loan was put in another (`keep_in_book`)."""
    if loan_id is None:
        return REAL
    return session.scalar(select(LoanBook.book).where(LoanBook.loan_id == loan_id)) or REAL


def keep_in_book(session: Session, loan_id: int, book: str) -> None:
    """Keep every entry of `loan_id` in `book` (e.g. "training") instead of the real book: called when
    the loan is booked, before its first entry."""
    if book != REAL and session.get(LoanBook, loan_id) is None:
        session.add(LoanBook(loan_id=loan_id, book=book))
        session.flush()


@lru_cache(maxsize=8)
def _insert_entry(dialect: str, today: bool) -> Any:
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    kept = select(LoanBook.book).where(LoanBook.loan_id == bindparam("book_loan")).scalar_subquery()
    stmt = ins(JournalEntry).values(book=func.coalesce(kept, REAL))
    if today:  # the current business date (the calendar date on a database that has none yet)
        current = select(BusinessDate.current).where(BusinessDate.id == 1).scalar_subquery()
        stmt = stmt.values(business_date=func.coalesce(current, func.current_date()))
    return stmt.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(JournalEntry)


def _same_or_conflict(session: Session, entry: JournalEntry, loan_id: int | None, lines: Sequence[Line]) -> None:
    def key(rows: Iterable[Sequence[object]]) -> list[tuple[str, int, int, int]]:
        return sorted((str(a), int(b or 0), int(c or 0), int(d or 0)) for a, b, c, d in rows)  # type: ignore[call-overload]

    stored = session.execute(
        select(JournalLine.account, JournalLine.loan_id, JournalLine.debit_fen, JournalLine.credit_fen).where(
            JournalLine.entry_id == entry.id
        )
    ).all()
    wanted = [
        (r["account"], r["loan_id"], r["debit_fen"], r["credit_fen"]) for r in _line_rows(entry.id, loan_id, lines)
    ]
    if key(stored) != key(wanted):
        raise IdempotencyConflict(entry.idempotency_key)


def entry_posted(session: Session, idempotency_key: str) -> bool:
    """Whether an entry was already posted under `idempotency_key` (a step that must not run twice)."""
    return session.scalar(select(JournalEntry.id).where(JournalEntry.idempotency_key == idempotency_key)) is not None


def entry_lines(session: Session, entry_id: int) -> list[JournalLine]:
    return list(session.scalars(select(JournalLine).where(JournalLine.entry_id == entry_id).order_by(JournalLine.id)))


def reverse_entry(
    session: Session,
    entry_id: int,
    *,
    idempotency_key: str | None = None,
    business_date: date | None = None,
    memo: str = "",
) -> JournalEntry:
    """A correction: a new entry with every line of `entry_id` on the other side."""
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise NotFound.saying(f"记账凭证 {entry_id}", f"journal entry {entry_id}")
    lines = [
        Line(x.account, debit=x.credit_fen, credit=x.debit_fen, loan_id=x.loan_id)
        for x in entry_lines(session, entry_id)
    ]
    return post_entry(
        session,
        reason=Reason.REVERSAL,
        lines=lines,
        idempotency_key=idempotency_key or f"reversal:{original.idempotency_key}"[:160],
        business_date=business_date,
        loan_id=original.loan_id,
        payment_ref=original.payment_ref,
        memo=memo or f"reverses entry {entry_id}",
        reverses_id=entry_id,
    )


def _signed(account: str) -> int:
    return 1 if CHART[Account(account)].debit_normal else -1


def account_balance(
    session: Session,
    account: str,
    *,
    loan_id: int | None = None,
    as_of: date | None = None,
) -> int:
    """Balance in fen on the account's normal side (assets and expenses: debits − credits;
    liabilities and income: credits − debits), optionally for one loan and up to a business date."""
    if account not in CHART:
        raise UnknownAccount(str(account))
    q = select(func.coalesce(func.sum(JournalLine.debit_fen - JournalLine.credit_fen), 0)).where(
        JournalLine.account == str(account)
    )
    # One loan's balance in whatever book it is kept; the platform's accounts in the real book.
    q = q.where(JournalLine.loan_id == loan_id) if loan_id is not None else q.where(JournalLine.book == REAL)
    if as_of is not None:
        q = q.join(JournalEntry, JournalEntry.id == JournalLine.entry_id).where(JournalEntry.business_date <= as_of)
    return int(session.scalar(q) or 0) * _signed(account)


def loan_balances(session: Session, loan_id: int) -> dict[Account, int]:
    """Every loan-level account's balance for one loan (normal side), zero where there are no lines."""
    rows = session.execute(
        select(JournalLine.account, func.sum(JournalLine.debit_fen - JournalLine.credit_fen))
        .where(JournalLine.loan_id == loan_id)
        .group_by(JournalLine.account)
    ).all()
    found = {Account(a): int(v) * _signed(a) for a, v in rows}
    return {a: found.get(a, 0) for a, s in CHART.items() if s.per_loan}


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    account: Account
    debit: int  # total debits, fen
    credit: int  # total credits, fen

    @property
    def balance(self) -> int:
        """Normal-side balance."""
        return (self.debit - self.credit) * _signed(self.account)


def trial_balance(session: Session, as_of: date | None = None, *, book: str = REAL) -> list[TrialBalanceRow]:
    """Totals of every account in the chart (zeros included) in one book (the real one unless said);
    Σ debits = Σ credits when the ledger is sound."""
    if as_of is not None and book == REAL:
        snap = balances_on(session, as_of)  # a closed day: one row per account instead of the journal
        if snap is not None:
            return [TrialBalanceRow(a, *snap[a]) for a in CHART]
    q = (select(JournalLine.account, func.sum(JournalLine.debit_fen), func.sum(JournalLine.credit_fen))
         .where(JournalLine.book == book).group_by(JournalLine.account))
    if as_of is not None:
        q = q.join(JournalEntry, JournalEntry.id == JournalLine.entry_id).where(JournalEntry.business_date <= as_of)
    totals = {a: (int(d or 0), int(c or 0)) for a, d, c in session.execute(q).all()}
    return [TrialBalanceRow(a, *totals.get(str(a), (0, 0))) for a in CHART]
