"""The ledger's read port for the figures other domains derive from a loan's entries: an entry found by its
idempotency key, what its lines moved, a loan's totals per account for some reasons. One query each, plain
values back (no journal rows leave the ledger); like every query they flush the caller's session first and
run in its transaction, so a caller holding a lock reads under it.

    from fenqi.ledger import entry_by_key, loan_account_totals
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.ledger.accounts import Account
from fenqi.ledger.models import JournalEntry, JournalLine


@dataclass(frozen=True, slots=True)
class EntryRef:
    """A posted entry, as much of it as a caller needs to tell a repeat from a conflict."""

    id: int
    loan_id: int | None
    reason: str


class Totals(NamedTuple):
    """Total debits and credits in fen."""

    debit: int
    credit: int


def entry_by_key(session: Session, idempotency_key: str) -> EntryRef | None:
    """The entry posted under `idempotency_key`, or None."""
    row = session.execute(
        select(JournalEntry.id, JournalEntry.loan_id, JournalEntry.reason).where(
            JournalEntry.idempotency_key == idempotency_key
        )
    ).first()
    return None if row is None else EntryRef(int(row.id), row.loan_id, str(row.reason))


def entry_debits(session: Session, entry_id: int, account: str) -> int:
    """What one entry debited to `account`, in fen (0 when it has no such line)."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(JournalLine.debit_fen), 0)).where(
                JournalLine.entry_id == entry_id, JournalLine.account == str(account)
            )
        )
        or 0
    )


def loan_entry_id(session: Session, loan_id: int, reason: str) -> int | None:
    """The id of the loan's own entry (posted with `loan_id`) of `reason`, or None; for reasons a loan has
    at most one entry of, like its cancellation."""
    return session.scalar(select(JournalEntry.id).where(JournalEntry.loan_id == loan_id, JournalEntry.reason == reason))


def loan_account_totals(
    session: Session,
    loan_id: int,
    *,
    reasons: Iterable[str],
    accounts: Iterable[str] | None = None,
    before_entry_id: int | None = None,
) -> dict[Account, Totals]:
    """The loan's lines (lines carrying `loan_id`, whichever entry they are in) of entries of `reasons`,
    totalled per account: only `accounts` when given, only entries older than `before_entry_id` (id <) when
    given. Accounts without such lines are absent."""
    q = (
        select(JournalLine.account, func.sum(JournalLine.debit_fen), func.sum(JournalLine.credit_fen))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.loan_id == loan_id, JournalEntry.reason.in_([str(r) for r in reasons]))
        .group_by(JournalLine.account)
    )
    if accounts is not None:
        q = q.where(JournalLine.account.in_([str(a) for a in accounts]))
    if before_entry_id is not None:
        q = q.where(JournalEntry.id < before_entry_id)
    return {Account(a): Totals(int(d or 0), int(c or 0)) for a, d, c in session.execute(q).all()}


def own_entries_net_debit(
    session: Session, loan_id: int, *, reason: str, account: str, before_entry_id: int | None = None
) -> int:
    """Debits less credits to `account` in the loan's own entries (posted with `loan_id`) of `reason`, older
    than `before_entry_id` (id <) when given: a platform account's lines carry no loan, their entry does."""
    q = (
        select(func.coalesce(func.sum(JournalLine.debit_fen - JournalLine.credit_fen), 0))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.loan_id == loan_id, JournalEntry.reason == str(reason),
               JournalLine.account == str(account))
    )
    if before_entry_id is not None:
        q = q.where(JournalEntry.id < before_entry_id)
    return int(session.scalar(q) or 0)
