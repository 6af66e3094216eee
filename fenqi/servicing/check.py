"""Servicing's side of `fenqi ledger check`: every loan's stored figures equal its ledger, its schedule
and its delinquency (the ledger checks the journal itself: fenqi.ledger.check).

Set-based queries (one pass over the journal lines, one over the loans, one over the installments),
so the check scales with the book like close-of-business does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from fenqi.kit.settings import get_settings
from fenqi.ledger import REAL
from fenqi.ledger.accounts import CHART, Account
from fenqi.ledger.check import JournalReport, SubledgerReport, check_journal
from fenqi.servicing.rules import bucket_for, days_past_due

# Stored loan column ↔ ledger account (normal-side balance).
LOAN_FIGURES: tuple[tuple[str, Account], ...] = (
    ("principal_outstanding_fen", Account.PRINCIPAL_RECEIVABLE),
    ("interest_accrued_fen", Account.INTEREST_ACCRUED),
    ("interest_receivable_fen", Account.INTEREST_RECEIVABLE),
    ("fee_accrued_fen", Account.FEE_ACCRUED),
    ("fee_receivable_fen", Account.FEE_RECEIVABLE),
    ("penalty_receivable_fen", Account.PENALTY_RECEIVABLE),
    ("credit_balance_fen", Account.CUSTOMER_CREDIT),
)
MAX_LISTED = 20


@dataclass
class CheckReport:
    entries: int = 0
    lines: int = 0
    loans: int = 0
    total_debits: int = 0
    total_credits: int = 0
    unbalanced_entries: list[int] = field(default_factory=list)
    orphan_lines_of: list[int] = field(default_factory=list)  # entry ids that lines point to but do not exist
    loan_mismatches: list[dict[str, Any]] = field(default_factory=list)
    schedule_mismatches: list[dict[str, Any]] = field(default_factory=list)
    delinquency_mismatches: list[dict[str, Any]] = field(default_factory=list)
    journal: JournalReport = field(default_factory=JournalReport)

    @property
    def ok(self) -> bool:
        return (
            self.journal.ok
            and not self.loan_mismatches
            and not self.schedule_mismatches
            and not self.delinquency_mismatches
        )

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.journal.to_json(), **self.findings().counts, **self.findings().findings}

    def findings(self) -> SubledgerReport:
        return SubledgerReport(counts={"loans": self.loans}, findings={
            "loan_mismatches": self.loan_mismatches, "schedule_mismatches": self.schedule_mismatches,
            "delinquency_mismatches": self.delinquency_mismatches})


def _ledger_pivot() -> str:
    cols = []
    for column, account in LOAN_FIGURES:
        sign = "debit_fen - credit_fen" if CHART[account].debit_normal else "credit_fen - debit_fen"
        cols.append(f"SUM(CASE WHEN account = '{account}' THEN {sign} ELSE 0 END) AS {column}")
    return (f"SELECT loan_id, {', '.join(cols)} FROM journal_line WHERE loan_id IS NOT NULL AND book = :book "
            "GROUP BY loan_id")


def check_books(session: Session, loan_ids: tuple[int, int] | None = None, *, book: str = REAL) -> CheckReport:
    """The ledger's own checks (`fenqi.ledger.check`) and every loan equal to its ledger and schedule.

    One book: the real one, or "training" (a training store's practice loans and their entries).
    `loan_ids` (lo, hi) limits the loan comparisons to a range of ids (the journal checks are global).
    """
    journal = check_journal(session, book=book)
    r = _check_loans(session, loan_ids, book)
    r.journal = journal
    r.entries, r.lines, r.total_debits, r.total_credits = (
        journal.entries, journal.lines, journal.total_debits, journal.total_credits)
    r.unbalanced_entries, r.orphan_lines_of = journal.unbalanced_entries, journal.orphan_lines_of
    return r


def check_loans(session: Session, book: str) -> SubledgerReport:
    """Servicing's subledger check, registered with the ledger's (`fenqi.wiring`)."""
    return _check_loans(session, None, book).findings()


def _check_loans(session: Session, loan_ids: tuple[int, int] | None, book: str) -> CheckReport:
    r = CheckReport()
    where = "WHERE l.training = :training" + (" AND l.id BETWEEN :lo AND :hi" if loan_ids else "")
    params: dict[str, Any] = {"training": book != REAL, "book": book}
    params.update({"lo": loan_ids[0], "hi": loan_ids[1]} if loan_ids else {})
    r.loans = int(session.scalar(text(f"SELECT COUNT(*) FROM loan l {where}"), params) or 0)

    differs = " OR ".join(f"COALESCE(b.{c}, 0) <> l.{c}" for c, _ in LOAN_FIGURES)
    negative = " OR ".join(f"l.{c} < 0" for c, _ in LOAN_FIGURES)
    select_cols = ", ".join(f"l.{c}, COALESCE(b.{c}, 0)" for c, _ in LOAN_FIGURES)
    rows = session.execute(
        text(
            f"SELECT l.id, {select_cols} FROM loan l LEFT JOIN ({_ledger_pivot()}) b ON b.loan_id = l.id "
            f"{where} {'AND' if where else 'WHERE'} ({differs} OR {negative}) ORDER BY l.id LIMIT {MAX_LISTED}"
        ),
        params,
    ).all()
    for row in rows:
        item: dict[str, Any] = {"loan_id": row[0]}
        for i, (column, _) in enumerate(LOAN_FIGURES):
            stored, ledger = row[1 + 2 * i], row[2 + 2 * i]
            if stored != ledger or stored < 0:
                item[column] = {"stored": stored, "ledger": ledger}
        r.loan_mismatches.append(item)

    # The installment table says the same as the loan: unpaid principal of open installments, and
    # unpaid interest and fee of due ones (open loans only; closed loans must owe nothing at all).
    sched = (
        "SELECT loan_id, "
        "SUM(CASE WHEN status IN ('pending', 'due') THEN principal_fen - paid_principal_fen ELSE 0 END) AS p, "
        "SUM(CASE WHEN status = 'due' THEN interest_fen - paid_interest_fen ELSE 0 END) AS i, "
        "SUM(CASE WHEN status = 'due' THEN fee_fen - paid_fee_fen ELSE 0 END) AS f, "
        "MIN(CASE WHEN status = 'due' THEN due_date END) AS oldest, "
        "SUM(CASE WHEN paid_principal_fen > principal_fen OR paid_interest_fen > interest_fen "
        "OR paid_fee_fen > fee_fen OR paid_principal_fen < 0 THEN 1 ELSE 0 END) AS over "
        "FROM installment GROUP BY loan_id"
    )
    rows = session.execute(
        text(
            f"SELECT l.id, l.status, l.principal_outstanding_fen, s.p, l.interest_receivable_fen, s.i, "
            f"l.fee_receivable_fen, s.f, l.oldest_unpaid_due, s.oldest, s.over, l.interest_accrued_fen, "
            f"l.cur_interest_fen, l.fee_accrued_fen, l.cur_fee_fen FROM loan l JOIN ({sched}) s ON s.loan_id = l.id "
            f"{where} {'AND' if where else 'WHERE'} ("
            "(l.status IN ('active', 'overdue') AND (l.principal_outstanding_fen <> s.p "
            "OR l.interest_receivable_fen <> s.i OR l.fee_receivable_fen <> s.f "
            # Unpaid penalty keeps the age of the arrears it was charged on: then the loan's date may be older.
            "OR (l.penalty_receivable_fen = 0 AND COALESCE(l.oldest_unpaid_due, '1900-01-01') "
            "<> COALESCE(s.oldest, '1900-01-01')) "
            "OR (l.penalty_receivable_fen > 0 AND (l.oldest_unpaid_due IS NULL "
            "OR l.oldest_unpaid_due > COALESCE(s.oldest, l.oldest_unpaid_due))) "
            "OR l.interest_accrued_fen > l.cur_interest_fen OR l.fee_accrued_fen > l.cur_fee_fen)) "
            "OR s.over > 0 "
            "OR (l.status IN ('paid_off', 'cancelled', 'written_off') AND (l.principal_outstanding_fen <> 0 "
            "OR l.interest_receivable_fen <> 0 OR l.fee_receivable_fen <> 0 OR l.penalty_receivable_fen <> 0 "
            "OR l.interest_accrued_fen <> 0 OR l.fee_accrued_fen <> 0))"
            f") ORDER BY l.id LIMIT {MAX_LISTED}"
        ),
        params,
    ).all()
    for row in rows:
        r.schedule_mismatches.append(
            {
                "loan_id": row[0],
                "status": row[1],
                "principal": [row[2], row[3]],
                "interest_receivable": [row[4], row[5]],
                "fee_receivable": [row[6], row[7]],
                "oldest_unpaid_due": [str(row[8]), str(row[9])],
                "overpaid_installments": row[10],
                "interest_accrued_of_period": [row[11], row[12]],
                "fee_accrued_of_period": [row[13], row[14]],
            }
        )

    # Days past due, bucket and status follow from the oldest unpaid due date and the last closed date.
    buckets = get_settings().delinquency_buckets
    rows = session.execute(
        text(
            f"SELECT l.id, l.status, l.cob_date, l.oldest_unpaid_due, l.dpd, l.bucket FROM loan l {where} "
            f"{'AND' if where else 'WHERE'} l.status IN ('active', 'overdue')"
        ),
        params,
    ).all()
    for loan_id, status, cob_date, oldest, dpd, bucket in rows:
        want = days_past_due(_as_date(cob_date), _as_date(oldest) if oldest is not None else None)
        want_status = "overdue" if want > 0 else "active"
        stored = (dpd, bucket, status)
        if stored != (want, bucket_for(want, buckets), want_status) and len(r.delinquency_mismatches) < MAX_LISTED:
            r.delinquency_mismatches.append(
                {
                    "loan_id": loan_id,
                    "stored": [dpd, bucket, status],
                    "derived": [want, bucket_for(want, buckets), want_status],
                }
            )
    return r


def _as_date(value: Any) -> Any:
    from datetime import date

    return value if isinstance(value, date) else date.fromisoformat(str(value))
