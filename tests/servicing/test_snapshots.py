"""The daily snapshots written by close-of-business agree with the ledger, day by day, loan by loan."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fenqi.analytics.service import outstanding_per_day
from fenqi.kit.clock import business_date
from fenqi.ledger import trial_balance
from fenqi.ledger.models import AccountDayBalance
from fenqi.ledger.snapshot import snapshot_accounts, snapshot_differences
from fenqi.servicing.cob_runs import run_cob
from fenqi.servicing.models import Loan, LoanDayBalance
from fenqi.servicing.service import apply_repayment, book_loan, payoff_quote, write_off
from fenqi.servicing.snapshot import snapshot_chunk
from tests.servicing.support import START, fresh_book

# Snapshot column → the loan-level ledger account it mirrors (normal side: debits − credits, except credit).
MIRRORS = {
    "principal_fen": "principal_receivable", "interest_accrued_fen": "interest_accrued",
    "interest_receivable_fen": "interest_receivable", "fee_accrued_fen": "fee_accrued",
    "fee_receivable_fen": "fee_receivable", "penalty_fen": "penalty_receivable", "credit_fen": "customer_credit",
}
DAYS = 75


def _close(session: Session, n: int = 1) -> None:
    run_cob(session.connection(), business_date(session) + timedelta(days=n - 1))
    session.expire_all()


def _scenario(session: Session) -> list[int]:
    """Four loans over 75 closed days: one pays monthly, one never (penalties), one pays off early,
    one is written off (and then pays something back)."""
    fresh_book(session)
    ids = [book_loan(session, external_ref=f"snap-{i}", product_code=code, financed_fen=300_000 + 7_000 * i,
                     term=term).id
           for i, (code, term) in enumerate([("EI-12", 12), ("EP-10", 6), ("FEE-060", 6), ("IF-MERCHANT", 3)])]
    for day in range(DAYS):
        today = business_date(session)
        if today.day == 28:
            apply_repayment(session, loan_id=ids[0], amount_fen=45_000, payment_ref=f"m-{today}")
        if day == 20:
            quote = payoff_quote(session, ids[2])
            apply_repayment(session, loan_id=ids[2], amount_fen=quote.total, payment_ref="payoff", purpose="payoff")
        if day == 45:
            write_off(session, ids[3])
        if day == 60:
            apply_repayment(session, loan_id=ids[3], amount_fen=5_000, payment_ref="recovery")
        _close(session)
    return ids


def _ledger_by_loan_day(session: Session, ids: list[int]) -> dict[tuple[int, str], dict[date, int]]:
    rows = session.execute(text(
        "SELECT x.loan_id, x.account, e.business_date, SUM(x.debit_fen - x.credit_fen) FROM journal_line x "
        "JOIN journal_entry e ON e.id = x.entry_id WHERE x.loan_id IN (" + ",".join(map(str, ids)) + ") "
        "GROUP BY x.loan_id, x.account, e.business_date"
    )).all()
    out: dict[tuple[int, str], dict[date, int]] = defaultdict(dict)
    for loan_id, account, day, net in rows:
        out[(int(loan_id), str(account))][date.fromisoformat(str(day))] = int(net)
    return out


def _as_of(moves: dict[date, int], day: date) -> int:
    return sum(v for d, v in moves.items() if d <= day)


def test_loan_and_account_snapshots_agree_with_the_ledger(session: Session) -> None:
    ids = _scenario(session)
    last = business_date(session) - timedelta(days=1)
    days = [START + timedelta(days=i) for i in range(DAYS)]
    assert days[-1] == last
    ledger = _ledger_by_loan_day(session, ids)
    rows = session.scalars(select(LoanDayBalance).where(LoanDayBalance.loan_id.in_(ids))).all()
    by_key = {(r.loan_id, r.business_date): r for r in rows}
    assert len(by_key) == len(rows)
    closed = {loan.id: loan.closed_on for loan in session.scalars(select(Loan).where(Loan.id.in_(ids)))}
    assert closed[ids[2]] is not None and closed[ids[3]] is not None
    for loan_id in ids:
        for day in days:
            row = by_key.get((loan_id, day))
            end = closed[loan_id]
            if end is not None and day > end:
                assert row is None, (loan_id, day)  # a closed loan leaves the snapshot after its last day
                continue
            assert row is not None, (loan_id, day)
            for column, account in MIRRORS.items():
                want = _as_of(ledger.get((loan_id, account), {}), day)
                sign = -1 if account == "customer_credit" else 1
                assert getattr(row, column) == sign * want, (loan_id, day, column)
    statuses = {(r.loan_id, r.status) for r in rows}
    assert (ids[1], "overdue") in statuses and (ids[2], "paid_off") in statuses and (ids[3], "written_off") in statuses
    assert any(r.penalty_fen > 0 and r.dpd > 0 and r.bucket != "current" for r in rows if r.loan_id == ids[1])
    # Every account, every closed day: the snapshot's totals are the journal's.
    for day in days:
        assert snapshot_differences(session, day) == {}, day
    # The readers: outstanding per day from the snapshot, as the journal says; the trial balance as of a day.
    series = outstanding_per_day(session, start=START - timedelta(days=3), end=last + timedelta(days=1))
    for day, balance in series:
        want = sum(_as_of(ledger.get((i, "principal_receivable"), {}), day) for i in ids)
        assert balance == want, day
    tb = trial_balance(session, days[30])
    assert sum(r.debit for r in tb) == sum(r.credit for r in tb) > 0


def test_a_rerun_replaces_the_days_rows_and_duplicates_are_refused(session: Session) -> None:
    fresh_book(session)
    ids = [book_loan(session, external_ref=f"rerun-{i}", product_code="FEE-060", financed_fen=300_000, term=3).id
           for i in range(3)]
    _close(session, 2)
    day = business_date(session) - timedelta(days=1)

    def counts() -> tuple[int, int]:
        loans = session.scalar(select(func.count()).select_from(LoanDayBalance)
                               .where(LoanDayBalance.business_date == day, LoanDayBalance.loan_id.in_(ids)))
        accounts = session.scalar(select(func.count()).select_from(AccountDayBalance)
                                  .where(AccountDayBalance.business_date == day))
        return int(loans or 0), int(accounts or 0)

    before = counts()
    assert before[0] == 3 and before[1] > 0
    assert snapshot_chunk(session, day, min(ids), max(ids)) == 3  # a chunk closed again
    snapshot_accounts(session, day)
    assert counts() == before
    assert snapshot_differences(session, day) == {}
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text(
            "INSERT INTO loan_day_balance (business_date, loan_id, status, dpd, bucket, principal_fen, "
            "interest_accrued_fen, interest_receivable_fen, fee_accrued_fen, fee_receivable_fen, penalty_fen, "
            "credit_fen, written_off_fen) VALUES (:d, :id, 'active', 0, 'current', 0, 0, 0, 0, 0, 0, 0, 0)"
        ), {"d": day, "id": ids[0]})


def test_the_ledger_check_finds_a_snapshot_that_differs_from_the_journal(session: Session) -> None:
    """`fenqi ledger check` lists the accounts whose last daily snapshot differs from the journal (an entry
    that committed into a day after its close would leave them apart), besides checking the loans."""
    from fenqi.ledger.check import check_books

    fresh_book(session)
    book_loan(session, external_ref="snap-check", product_code="FEE-060", financed_fen=300_000, term=3)
    _close(session, 2)
    day = business_date(session) - timedelta(days=1)
    before = check_books(session)
    assert before["ok"] is True and before["snapshot_differences"] == [] and before["loans"] >= 1
    session.execute(text("UPDATE account_day_balance SET debit_fen = debit_fen + 1 "
                         "WHERE business_date = :d AND account = 'principal_receivable'"), {"d": day})
    after = check_books(session)
    assert after["ok"] is True  # the books are sound; the copy the analytics read is what differs
    assert [(d["account"], d["day"], d["journal"] - d["snapshot"]) for d in after["snapshot_differences"]] == [
        ("principal_receivable", str(day), -1)]
