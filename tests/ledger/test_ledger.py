"""The ledger: balanced, idempotent, insert-only entries; balances on the normal side; trial balance."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fenqi.kit.clock import set_business_date
from fenqi.ledger import Account, Line, account_balance, post_entry, reverse_entry, trial_balance
from fenqi.ledger.errors import IdempotencyConflict, InvalidEntry, UnbalancedEntry, UnknownAccount
from fenqi.ledger.service import validate_lines
from tests.servicing.support import IS_POSTGRES, PURE

DAY = date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _day(session: Session) -> None:
    set_business_date(session, DAY)


def cash_in(session: Session, key: str, fen: int, loan_id: int | None = None):  # type: ignore[no-untyped-def]
    return post_entry(
        session,
        reason="repayment",
        idempotency_key=key,
        loan_id=loan_id,
        lines=[Line.dr(Account.CASH_ALIPAY, fen), Line.cr(Account.CUSTOMER_CREDIT, fen)],
    )


def test_balances_on_the_normal_side_and_per_loan(session: Session) -> None:
    cash_in(session, "k1", 10_000, loan_id=7)
    cash_in(session, "k2", 2_500, loan_id=8)
    assert account_balance(session, Account.CASH_ALIPAY) == 12_500  # asset: debits − credits
    assert account_balance(session, Account.CUSTOMER_CREDIT) == 12_500  # liability: credits − debits
    assert account_balance(session, Account.CUSTOMER_CREDIT, loan_id=7) == 10_000
    assert account_balance(session, Account.CUSTOMER_CREDIT, as_of=date(2026, 2, 28)) == 0
    rows = {r.account: r for r in trial_balance(session)}
    assert sum(r.debit for r in rows.values()) == sum(r.credit for r in rows.values()) == 12_500
    assert rows[Account.CASH_ALIPAY].balance == 12_500


def test_the_same_key_posts_once_and_other_lines_conflict(session: Session) -> None:
    first = cash_in(session, "dup", 500)
    again = cash_in(session, "dup", 500)
    assert again.id == first.id
    assert account_balance(session, Account.CASH_ALIPAY) == 500
    with pytest.raises(IdempotencyConflict):
        cash_in(session, "dup", 501)


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ([Line.dr(Account.CASH_ALIPAY, 100), Line.cr(Account.FEE_INCOME, 99)], UnbalancedEntry),
        ([Line.dr(Account.CASH_ALIPAY, 100)], InvalidEntry),
        ([Line.dr("petty_cash", 100), Line.cr(Account.FEE_INCOME, 100)], UnknownAccount),
        ([Line(Account.CASH_ALIPAY, debit=-5), Line(Account.FEE_INCOME, credit=-5)], InvalidEntry),
        ([Line(Account.CASH_ALIPAY, debit=5, credit=5), Line(Account.FEE_INCOME, credit=0)], InvalidEntry),
        ([Line(Account.CASH_ALIPAY, debit=1.5), Line(Account.FEE_INCOME, credit=1.5)], InvalidEntry),  # type: ignore[arg-type]
    ],
)
def test_bad_entries_are_refused_and_nothing_is_written(session: Session, lines: list[Line], error: type) -> None:
    with pytest.raises(error):
        post_entry(session, reason="adjustment", idempotency_key="bad", lines=lines)
    assert session.scalar(text("SELECT COUNT(*) FROM journal_entry WHERE idempotency_key = 'bad'")) == 0


def test_a_reversal_undoes_an_entry(session: Session) -> None:
    entry = cash_in(session, "to-reverse", 700, loan_id=3)
    rev = reverse_entry(session, entry.id)
    assert rev.reverses_id == entry.id
    assert account_balance(session, Account.CASH_ALIPAY) == 0
    assert account_balance(session, Account.CUSTOMER_CREDIT, loan_id=3) == 0
    assert reverse_entry(session, entry.id).id == rev.id  # reversing twice is one reversal


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_line SET debit_fen = debit_fen + 1",
        "DELETE FROM journal_line",
        "UPDATE journal_entry SET reason = 'x'",
        "DELETE FROM journal_entry",
    ],
)
def test_the_journal_is_insert_only(session: Session, statement: str) -> None:
    cash_in(session, "immutable", 100)
    with pytest.raises(DBAPIError, match="insert-only"), session.begin_nested():
        session.execute(text(statement))


@pytest.mark.skipif(not IS_POSTGRES, reason="deferred constraint triggers are PostgreSQL's")
def test_postgres_refuses_an_unbalanced_entry_at_commit(session: Session) -> None:
    with pytest.raises(DBAPIError, match="does not balance"), session.begin_nested():
        entry_id = session.execute(
            text(
                "INSERT INTO journal_entry (idempotency_key, reason, business_date, memo, created_at) "
                "VALUES ('raw', 'adjustment', '2026-03-01', '', now()) RETURNING id"
            )
        ).scalar_one()
        session.execute(
            text(
                "INSERT INTO journal_line (entry_id, account, debit_fen, credit_fen) VALUES "
                "(:e, 'cash_bank', 100, 0), (:e, 'fee_income', 0, 99)"
            ),
            {"e": entry_id},
        )
        session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))


amounts = st.integers(min_value=1, max_value=10**9)


@PURE
@given(st.lists(st.tuples(st.sampled_from(list(Account)), amounts, st.booleans()), min_size=1, max_size=12))
def test_validation_accepts_exactly_the_balanced_sets_of_lines(raw: list[tuple[Account, int, bool]]) -> None:
    lines = [Line(a, debit=x if dr else 0, credit=0 if dr else x) for a, x, dr in raw]
    debits = sum(x.debit for x in lines)
    credits = sum(x.credit for x in lines)
    if len(lines) >= 2 and debits == credits:
        validate_lines(lines)
    else:
        with pytest.raises((UnbalancedEntry, InvalidEntry)):
            validate_lines(lines)
    # Adding the missing side always balances it.
    if debits != credits:
        fix = (
            Line.cr(Account.FEE_INCOME, debits - credits)
            if debits > credits
            else Line.dr(Account.CASH_BANK, credits - debits)
        )
        validate_lines([*lines, fix])
