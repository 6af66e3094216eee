"""Shared helpers of the ledger and servicing tests: hypothesis profiles, a fresh book, snapshots."""

from __future__ import annotations

import hashlib
import os
from datetime import date

from hypothesis import HealthCheck, settings
from sqlalchemy import text
from sqlalchemy.orm import Session

from fenqi.kit.clock import set_business_date
from fenqi.pricing.service import seed_products

# HYPOTHESIS_PROFILE=dev (quick), ci (the default: 500 examples of each pure property, 200 of each database-backed
# one, on each database), nightly (5,000).
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=500, deadline=None)
settings.register_profile("nightly", max_examples=5000, deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
PURE = settings(settings.get_profile(PROFILE))
# Database-backed properties: without the health checks that flag the shared per-test transaction (each
# example runs in its own savepoint) or a slow data generation. 500 examples of the operation-sequence
# property take about 25 s on SQLite and 60 s on PostgreSQL on a quiet machine.
IS_POSTGRES = (os.environ.get("FENQI_TEST_DATABASE_URL") or "").startswith("postgresql")
DB = settings(
    settings.get_profile(PROFILE),
    # CI runs every property once per database, both at once: 200 database-backed examples on each.
    max_examples={"dev": 50, "ci": 200, "nightly": 5000}.get(PROFILE, 200),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

START = date(2026, 1, 31)  # month-end start: due dates clamp (28 Feb, 31 Mar, 30 Apr ...)


def fresh_book(session: Session, today: date = START) -> None:
    seed_products(session)
    set_business_date(session, today)
    session.flush()


LOAN_COLUMNS = (
    "id, status, principal_outstanding_fen, interest_accrued_fen, interest_receivable_fen, fee_accrued_fen, "
    "fee_receivable_fen, penalty_receivable_fen, credit_balance_fen, dpd, bucket, oldest_unpaid_due, "
    "penalty_charged_fen, cap_budget_nfen, written_off_fen, cob_date, cur_period, cur_due_date"
)


def snapshot(session: Session, loan_ids: list[int]) -> list[tuple[str, ...]]:
    """Everything close-of-business can change for these loans, as text (comparable across databases)."""
    ids = ",".join(str(i) for i in loan_ids) or "0"
    rows = [
        tuple(map(str, r))
        for r in session.execute(text(f"SELECT {LOAN_COLUMNS} FROM loan WHERE id IN ({ids}) ORDER BY id"))
    ]
    rows += [
        tuple(map(str, r))
        for r in session.execute(
            text(
                "SELECT loan_id, period, due_date, principal_fen, interest_fen, fee_fen, paid_principal_fen, "
                f"paid_interest_fen, paid_fee_fen, status, late_fee_charged FROM installment WHERE loan_id IN ({ids}) "
                "ORDER BY loan_id, period"
            )
        )
    ]
    rows += [
        tuple(map(str, r))
        for r in session.execute(
            text(
                "SELECT e.business_date, e.reason, x.account, x.loan_id, SUM(x.debit_fen), SUM(x.credit_fen) "
                "FROM journal_line x JOIN journal_entry e ON e.id = x.entry_id "
                f"WHERE x.loan_id IN ({ids}) GROUP BY e.business_date, e.reason, x.account, x.loan_id "
                "ORDER BY e.business_date, e.reason, x.account, x.loan_id"
            )
        )
    ]
    return rows


def digest(rows: list[tuple[str, ...]]) -> str:
    """A short digest; booleans and dates are normalised so SQLite and PostgreSQL agree."""
    norm = "\n".join("|".join({"True": "1", "False": "0"}.get(v, v) for v in row) for row in rows)
    return hashlib.sha256(norm.encode()).hexdigest()[:16]

