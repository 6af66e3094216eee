"""Set-based posting for batch work (close-of-business): one journal entry per reason and batch, its
lines inserted by one INSERT ... SELECT over the caller's rows, as fast as writing the tables directly.

    e = open_entry(session, idempotency_key=key, reason=Reason.INTEREST_ACCRUAL, business_date=day, memo=memo)
    post_lines(session, e, account=Account.INTEREST_ACCRUED, loan="l.id", debit="l.x - l.y",
               source="loan l WHERE l.id BETWEEN :lo AND :hi", params={"lo": 1, "hi": 500})
    balance_with(session, e, account=Account.INTEREST_INCOME)  # the other side, one line

The caller names its own rows (`source`: a FROM clause with its WHERE, over its own tables) and the
amount expressions; the ledger alone writes `journal_entry` and `journal_line`. Each entry must balance
by the end of the caller's transaction, as any other entry (the ledger's database check says so).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, bindparam, insert, text
from sqlalchemy.orm import Session

from fenqi.ledger.models import JournalEntry


def open_entry(session: Session, *, idempotency_key: str, reason: str, business_date: date, memo: str) -> int:
    """A new, still empty entry; its id for `post_lines`."""
    return int(session.execute(
        insert(JournalEntry)
        .values(idempotency_key=idempotency_key, reason=reason, business_date=business_date, memo=memo)
        .returning(JournalEntry.id)
    ).scalar_one())


@lru_cache(maxsize=1024)
def _statement(sql: str) -> Any:
    """Built once per shape; a :d parameter is a date (bound as a date on both databases)."""
    stmt = text(sql)
    return stmt.bindparams(bindparam("d", type_=Date)) if ":d" in sql else stmt


def post_lines(session: Session, entry_id: int, *, account: str, source: str, params: dict[str, Any],
               loan: str = "NULL", debit: str = "0", credit: str = "0") -> int:
    """One line on `account` per row of `SELECT ... FROM {source}`: `loan`, `debit` and `credit` are SQL
    expressions over those rows (column names or arithmetic, never user input). Returns the lines added."""
    sql = ("INSERT INTO journal_line (entry_id, account, loan_id, debit_fen, credit_fen) "
           f"SELECT :entry_id, '{account}', {loan}, {debit}, {credit} FROM {source}")
    result: Any = session.execute(_statement(sql), {**params, "entry_id": entry_id})
    return int(result.rowcount or 0)


def balance_with(session: Session, entry_id: int, *, account: str) -> int:
    """Credit `account` with what the entry's lines debit beyond what they credit (one line, none if
    nothing is left): the platform side of a batch of per-loan debits."""
    sql = ("INSERT INTO journal_line (entry_id, account, loan_id, debit_fen, credit_fen) "
           f"SELECT :entry_id, '{account}', NULL, 0, SUM(debit_fen) - SUM(credit_fen) FROM journal_line "
           "WHERE entry_id = :entry_id HAVING SUM(debit_fen) - SUM(credit_fen) > 0")
    result: Any = session.execute(_statement(sql), {"entry_id": entry_id})
    return int(result.rowcount or 0)
