"""The ledger checks the ledger: every entry of the book balanced and wholly in that book, no line without
its entry, the trial balance netting to zero; and it lists the accounts whose last daily snapshot differs
from the journal (analytics read the snapshots; the journal stays the truth).

Subledgers compare their own figures against the ledger and register that comparison here
(`register_subledger`, from `fenqi.wiring`): servicing's loans and schedules. `check_books` runs the
ledger's part and every registered subledger's — `fenqi ledger check` and `GET /api/v1/ledger/check`.
The ledger knows no loans; it only reports what each subledger found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from fenqi.ledger.models import REAL, AccountDayBalance
from fenqi.ledger.snapshot import snapshot_differences

MAX_LISTED = 20


@dataclass
class JournalReport:
    entries: int = 0
    lines: int = 0
    total_debits: int = 0
    total_credits: int = 0
    unbalanced_entries: list[int] = field(default_factory=list)
    orphan_lines_of: list[int] = field(default_factory=list)  # entry ids that lines point to but do not exist
    snapshot_day: date | None = None
    snapshot_differences: dict[str, tuple[int, int]] = field(default_factory=dict)  # account → (snapshot, journal)

    @property
    def ok(self) -> bool:
        """The books are sound. A snapshot that differs from the journal is listed but does not fail the
        check: the journal is the truth and the day's snapshot step, run again, repairs the copy."""
        return (self.total_debits == self.total_credits and not self.unbalanced_entries
                and not self.orphan_lines_of)

    def to_json(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "lines": self.lines,
            "trial_balance": {"debits": self.total_debits, "credits": self.total_credits,
                              "net": self.total_debits - self.total_credits},
            "unbalanced_entries": self.unbalanced_entries,
            "orphan_lines_of": self.orphan_lines_of,
            "snapshot_differences": [
                {"account": a, "day": str(self.snapshot_day), "snapshot": s, "journal": j}
                for a, (s, j) in sorted(self.snapshot_differences.items())],
        }


def check_journal(session: Session, *, book: str = REAL) -> JournalReport:
    r = JournalReport()
    b = {"book": book}
    r.entries = int(session.scalar(text("SELECT COUNT(*) FROM journal_entry WHERE book = :book"), b) or 0)
    r.lines, r.total_debits, r.total_credits = (
        int(x or 0) for x in session.execute(text(
            "SELECT COUNT(*), SUM(debit_fen), SUM(credit_fen) FROM journal_line WHERE book = :book"), b).one())
    r.unbalanced_entries = [int(e) for e in session.scalars(text(
        "SELECT e.id FROM journal_entry e LEFT JOIN journal_line x ON x.entry_id = e.id "
        "WHERE e.book = :book GROUP BY e.id "
        "HAVING COUNT(x.id) < 2 OR COALESCE(SUM(x.debit_fen), 0) <> COALESCE(SUM(x.credit_fen), 0) "
        "OR MIN(x.book) <> :book OR MAX(x.book) <> :book "
        f"ORDER BY e.id LIMIT {MAX_LISTED}"), b)]
    r.orphan_lines_of = [int(e) for e in session.scalars(text(
        "SELECT DISTINCT x.entry_id FROM journal_line x LEFT JOIN journal_entry e ON e.id = x.entry_id "
        f"WHERE e.id IS NULL ORDER BY x.entry_id LIMIT {MAX_LISTED}"))]
    if book == REAL:  # the daily snapshots are of the real book
        r.snapshot_day = session.scalar(select(func.max(AccountDayBalance.business_date)))
        if r.snapshot_day is not None:
            r.snapshot_differences = snapshot_differences(session, r.snapshot_day)
    return r


@dataclass
class SubledgerReport:
    """What a subledger found: its counts (e.g. loans checked) and its findings by kind (each a list of
    mismatches, empty when all is well)."""

    counts: dict[str, int]
    findings: dict[str, list[dict[str, Any]]]

    @property
    def ok(self) -> bool:
        return not any(self.findings.values())


Subledger = Callable[[Session, str], SubledgerReport]
_SUBLEDGERS: list[Subledger] = []


def register_subledger(check: Subledger) -> None:
    if check not in _SUBLEDGERS:
        _SUBLEDGERS.append(check)


def check_books(session: Session, *, book: str = REAL) -> dict[str, Any]:
    """The ledger's own checks and every registered subledger's, as one report (`ok` when all pass)."""
    journal = check_journal(session, book=book)
    report = journal.to_json()
    ok = journal.ok
    for subledger in _SUBLEDGERS:
        found = subledger(session, book)
        report.update(found.counts)
        report.update(found.findings)
        ok = ok and found.ok
    return {"ok": ok, **report}
