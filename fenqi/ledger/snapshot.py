"""The daily account snapshot (`account_day_balance`), written when close-of-business finishes a day
(`fenqi.wiring.install()` adds `snapshot_accounts` to servicing's day steps: the ledger imports no servicing).

Each account's cumulative debits and credits (the real book's; a training store's practice is left
out) over every entry dated on or before the day: the
previous snapshot plus the lines of the entries dated after it, so the step reads one day of the
journal (the whole journal only the first time). Re-running it for a day replaces that day's rows.

Entries are posted at the current business date, and the business date moves past `day` in the same
transaction as this step, so every entry of `day` is in the journal when it runs — except one whose
transaction read the business date before the close and commits after it; `fenqi ledger check`
(`snapshot_differences`) finds such a difference.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from fenqi.ledger.accounts import CHART, Account
from fenqi.ledger.errors import UnknownAccount
from fenqi.ledger.models import REAL, AccountDayBalance, JournalEntry, JournalLine


def snapshot_accounts(session: Session, day: date) -> None:
    """Day step: every account's totals at the end of `day` (accounts without a line are left out)."""
    session.execute(text("DELETE FROM account_day_balance WHERE business_date = :d"), {"d": day})
    prev = session.scalar(select(func.max(AccountDayBalance.business_date))
                          .where(AccountDayBalance.business_date < day))
    p = {"d": day, "p": prev or date.min}
    session.execute(text(
        "INSERT INTO account_day_balance (business_date, account, debit_fen, credit_fen) "
        "SELECT :d, account, SUM(dr), SUM(cr) FROM ("
        "  SELECT account, debit_fen AS dr, credit_fen AS cr FROM account_day_balance WHERE business_date = :p"
        "  UNION ALL"
        "  SELECT l.account, l.debit_fen, l.credit_fen FROM journal_line l"
        "  JOIN journal_entry e ON e.id = l.entry_id"
        "  WHERE e.business_date > :p AND e.business_date <= :d AND l.book = 'real'"
        ") t GROUP BY account"
    ), p)


def balances_on(session: Session, day: date) -> dict[Account, tuple[int, int]] | None:
    """(debits, credits) of every account at the end of `day` from its snapshot; None if `day` has none."""
    rows = session.execute(
        select(AccountDayBalance.account, AccountDayBalance.debit_fen, AccountDayBalance.credit_fen)
        .where(AccountDayBalance.business_date == day)
    ).all()
    if not rows:
        return None
    found = {Account(a): (int(d), int(c)) for a, d, c in rows}
    return {a: found.get(a, (0, 0)) for a in CHART}


def snapshot_differences(session: Session, day: date) -> dict[str, tuple[int, int]]:
    """Accounts whose snapshot of `day` differs from the journal: account → (snapshot, journal) net debits."""
    snap = balances_on(session, day) or {}
    rows = session.execute(
        select(JournalLine.account, func.sum(JournalLine.debit_fen - JournalLine.credit_fen))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.business_date <= day, JournalLine.book == REAL).group_by(JournalLine.account)
    ).all()
    journal = {str(a): int(v or 0) for a, v in rows}
    out = {}
    for a in set(journal) | {str(a) for a in snap}:
        d, c = snap.get(Account(a), (0, 0))
        if d - c != journal.get(a, 0):
            out[a] = (d - c, journal.get(a, 0))
    return out


def _movements(session: Session, account: str, lo: date, hi: date) -> dict[date, int]:
    rows = session.execute(
        select(JournalEntry.business_date, func.sum(JournalLine.debit_fen - JournalLine.credit_fen))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account == account, JournalLine.book == REAL, JournalEntry.business_date >= lo,
               JournalEntry.business_date <= hi)
        .group_by(JournalEntry.business_date)
    ).all()
    return {d: int(v or 0) for d, v in rows}


def account_history(session: Session, account: str, *, start: date, end: date) -> list[tuple[date, int]]:
    """An account's net debit balance (debits − credits) at the end of every day from `start` to `end`.

    Closed days are read from the snapshot (one row a day). The journal is read only for days without
    one: after the last snapshot (the open business date) and before the first (a book older than its
    snapshots); a day between two snapshots without its own keeps the previous balance."""
    if account not in CHART:
        raise UnknownAccount(str(account))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    net = AccountDayBalance.debit_fen - AccountDayBalance.credit_fen
    snaps = {d: int(v) for d, v in session.execute(
        select(AccountDayBalance.business_date, net).where(
            AccountDayBalance.account == account, AccountDayBalance.business_date >= start,
            AccountDayBalance.business_date <= end)).all()}
    before = session.execute(
        select(AccountDayBalance.business_date, net)
        .where(AccountDayBalance.account == account, AccountDayBalance.business_date < start)
        .order_by(AccountDayBalance.business_date.desc()).limit(1)).first()
    first, last = (min(snaps), max(snaps)) if snaps else (None, None)
    moves: dict[date, int] = {}
    if last is None or last < end:
        moves.update(_movements(session, account, (last or start - timedelta(days=1)) + timedelta(days=1), end))
    if before is None and first is not None and first > start:
        moves.update(_movements(session, account, start, first - timedelta(days=1)))
    if before is not None:  # plus any day between it and `start` without a snapshot of its own
        gap = _movements(session, account, before[0] + timedelta(days=1), start - timedelta(days=1))
        balance = int(before[1]) + sum(gap.values())
    else:
        balance = int(session.scalar(
            select(func.coalesce(func.sum(JournalLine.debit_fen - JournalLine.credit_fen), 0))
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(JournalLine.account == account, JournalLine.book == REAL, JournalEntry.business_date < start))
            or 0)
    series = []
    for d in days:
        balance = snaps[d] if d in snaps else balance + moves.get(d, 0)
        series.append((d, balance))
    return series
