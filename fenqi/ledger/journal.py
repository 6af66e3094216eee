"""A loan's journal: every entry with a line for the loan or made for it — its own entries (booking,
down payment, repayments, refunds) and the close-of-business entries that cover many loans at once
(accrual, penalties, due installments, write-off), whose `loan_id` is not the loan's. The API and the
console read it here."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fenqi.ledger.models import JournalEntry, JournalLine

Journal = list[tuple[JournalEntry, list[JournalLine]]]


def loan_journal(session: Session, loan_id: int, *, newest: int | None = None) -> Journal:
    """Entries oldest first (the `newest` N of them when given), each with the loan's lines and, for the
    loan's own entries, the platform-side lines (cash, merchant payable…); a batch entry's platform line
    sums many loans and is left out."""
    with_line = select(JournalLine.entry_id).where(JournalLine.loan_id == loan_id)
    # Its own entries too: a down payment's lines (cash, merchant payable) are all platform-side.
    q = (select(JournalEntry).where(or_(JournalEntry.id.in_(with_line), JournalEntry.loan_id == loan_id))
         .order_by(JournalEntry.id.desc()))
    if newest is not None:
        q = q.limit(newest)
    entries = list(session.scalars(q))[::-1]
    if not entries:
        return []
    own = {e.id for e in entries if e.loan_id == loan_id}
    lines: dict[int, list[JournalLine]] = {e.id: [] for e in entries}
    for line in session.scalars(select(JournalLine).where(JournalLine.entry_id.in_(list(lines)))
                                .order_by(JournalLine.id)):
        if line.loan_id == loan_id or (line.loan_id is None and line.entry_id in own):
            lines[line.entry_id].append(line)
    return [(e, lines[e.id]) for e in entries]
