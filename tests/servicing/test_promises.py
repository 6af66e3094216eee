"""Properties of what docs/servicing.md promises, on the real database (SQLite and PostgreSQL).

- Paying the payoff quote for a date, on that date, closes the loan with nothing owing and no credit
  (whatever happened before, whether the quote was asked that day or earlier).
- A return at any point refunds exactly what the shopper paid: the down payment and every payment on
  the loan (installments, fees, prepayment fees, penalties, credit), less what was refunded before;
  the platform keeps no income from the loan.
- Servicing's invariant checks are explicit exceptions (they hold under `python -O`).

The operation-sequence property in test_properties.py shows the stored balances equal the ledger after
any sequence (returns and repeated refunds included). Examples are kept small (a loan of at most 6
periods, at most 5 operations) and fewer than there (`FEW`), so the file runs in about half a minute.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

import fenqi.servicing
from fenqi.kit.clock import business_date
from fenqi.ledger import Account, account_balance
from fenqi.pricing.service import get_product
from fenqi.servicing.check import check_books
from fenqi.servicing.cob_runs import run_cob
from fenqi.servicing.models import Loan, LoanStatus
from fenqi.servicing.service import (
    LedgerMismatch,
    LoanNotOpen,
    apply_repayment,
    book_loan,
    cancel_loan,
    get_loan,
    installments,
    payoff_quote,
    refund_credit,
    repayments,
)
from tests.servicing.support import DB, IS_POSTGRES, PROFILE, fresh_book

# Each example books a loan and closes up to ~100 business days: 60 examples a property keep the file
# at about 30 s of CPU on SQLite (twice that on PostgreSQL); the nightly profile runs ten times as many.
FEW = settings(DB, max_examples={"dev": 20, "ci": 30, "nightly": 600}.get(PROFILE, 30))
FEWER = settings(DB, max_examples={"dev": 10, "ci": 10, "nightly": 200}.get(PROFILE, 10))

PRODUCTS = [("EI-12", 3), ("EI-12", 6), ("EP-10", 6), ("FEE-060", 3), ("FEE-060", 6), ("IF-MERCHANT", 3)]

# The product's servicing terms vary too: prepayment fee, late fee, interest rule, allocation order.
terms = st.fixed_dictionaries(
    {
        "prepayment_fee_rate": st.sampled_from([Decimal(0), Decimal("0.02"), Decimal("0.035")]),
        "late_fee_fen": st.sampled_from([0, 1_500]),
        "prepayment_interest_rule": st.sampled_from(["to_date", "full_period"]),
        "allocation_order": st.sampled_from(
            [["penalty", "fee", "interest", "principal"], ["principal", "interest", "fee", "penalty"]]
        ),
    }
)

ops = st.one_of(
    st.tuples(st.just("pay"), st.integers(min_value=1, max_value=300_000), st.sampled_from(["alipay", "wechatpay"])),
    st.tuples(
        st.just("prepay"),
        st.integers(min_value=1, max_value=300_000),
        st.sampled_from(["shorter_term", "lower_installment"]),
    ),
    st.tuples(st.just("days"), st.sampled_from([1, 3, 13, 29, 36])),
    st.tuples(st.just("to_due"), st.integers(min_value=1, max_value=3)),  # to the morning of a due date
    st.tuples(st.just("refund"), st.integers(min_value=1, max_value=50_000)),
)


def _until(session: Session, day: date) -> None:
    """Close every business date before `day`."""
    if day > business_date(session):
        run_cob(session.connection(), day - timedelta(days=1))
        session.expire_all()


def _run(session: Session, loan_id: int, sequence: list[tuple], tag: str) -> None:  # type: ignore[type-arg]
    for n, op in enumerate(sequence):
        ref = f"{tag}-{n}"
        loan = get_loan(session, loan_id)
        if loan.status not in LoanStatus.OPEN:
            return
        if op[0] == "pay":
            apply_repayment(session, loan_id=loan_id, amount_fen=op[1], payment_ref=ref, channel=op[2])
        elif op[0] == "prepay":
            apply_repayment(
                session,
                loan_id=loan_id,
                amount_fen=op[1],
                payment_ref=ref,
                purpose="prepayment",
                prepayment_choice=op[2],
            )
        elif op[0] == "days":
            _until(session, business_date(session) + timedelta(days=op[1]))
        elif op[0] == "to_due":
            rows = installments(session, loan_id)
            if op[1] <= len(rows):
                _until(session, rows[op[1] - 1].due_date)
        elif op[0] == "refund" and loan.credit_balance_fen:
            refund_credit(session, loan_id, amount_fen=min(op[1], loan.credit_balance_fen), refund_ref=ref)


@contextmanager
def _example(session: Session) -> Iterator[None]:
    """One example in its own savepoint of the test's transaction, rolled back after."""
    conn = session.connection()
    example = conn.begin_nested()
    try:
        yield
        session.flush()
        if IS_POSTGRES:
            session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # the deferred balance trigger checks now
    finally:
        example.rollback()
        session.expunge_all()  # the next example may reuse the rolled-back ids


def _book(session: Session, product: tuple[str, int], servicing: dict[str, object], financed: int, down: int) -> Loan:
    fresh_book(session)
    p = get_product(session, product[0])
    for name, value in servicing.items():
        setattr(p, name, value)
    session.flush()
    return book_loan(
        session,
        external_ref="promise",
        product_code=product[0],
        financed_fen=financed,
        term=product[1],
        down_payment_fen=down,
    )


def _owes(loan: Loan) -> int:
    return (
        loan.principal_outstanding_fen
        + loan.interest_accrued_fen
        + loan.interest_receivable_fen
        + loan.fee_accrued_fen
        + loan.fee_receivable_fen
        + loan.penalty_receivable_fen
    )


@FEW
@given(
    product=st.sampled_from(PRODUCTS),
    servicing=terms,
    financed=st.integers(min_value=10_000, max_value=800_000),
    sequence=st.lists(ops, max_size=5),
    ahead=st.sampled_from([0, 0, 0, 1, 6, 17, 36]),
    due_date=st.booleans(),
)
def test_paying_the_payoff_quote_for_a_date_on_that_date_closes_the_loan(
    session: Session,
    product: tuple[str, int],
    servicing: dict[str, object],
    financed: int,
    sequence: list[tuple],  # type: ignore[type-arg]
    ahead: int,
    due_date: bool,
) -> None:
    with _example(session):
        loan = _book(session, product, servicing, financed, 0)
        _run(session, loan.id, sequence, "q")
        loan = get_loan(session, loan.id)
        if loan.status not in LoanStatus.OPEN:
            return
        today = business_date(session)
        on = today + timedelta(days=ahead)
        if due_date:  # the quote for the next due date on or after that date, if any
            on = next((r.due_date for r in installments(session, loan.id) if r.due_date >= on), on)
        quote = payoff_quote(session, loan.id, on)
        _until(session, on)
        loan = get_loan(session, loan.id)
        if loan.status not in LoanStatus.OPEN or quote.total == 0:
            return  # written off meanwhile; or the credit balance covers it all (nothing to pay)
        apply_repayment(session, loan_id=loan.id, amount_fen=quote.total, payment_ref="payoff", purpose="payoff")
        loan = get_loan(session, loan.id)
        assert (loan.status, _owes(loan), loan.credit_balance_fen) == ("paid_off", 0, 0), quote
        report = check_books(session, (loan.id, loan.id))
        assert report.ok, report.to_json()


@FEW
@given(
    product=st.sampled_from(PRODUCTS),
    servicing=terms,
    financed=st.integers(min_value=10_000, max_value=800_000),
    down=st.sampled_from([0, 50_000, 123_456]),
    sequence=st.lists(ops, max_size=5),
)
def test_a_return_refunds_exactly_what_the_shopper_paid(
    session: Session,
    product: tuple[str, int],
    servicing: dict[str, object],
    financed: int,
    down: int,
    sequence: list[tuple],  # type: ignore[type-arg]
) -> None:
    with _example(session):
        loan = _book(session, product, servicing, financed, down)
        _run(session, loan.id, sequence, "r")
        if get_loan(session, loan.id).status not in LoanStatus.OPEN:
            return
        paid = {}
        for r in repayments(session, loan.id):
            paid[r.channel] = paid.get(r.channel, 0) + r.amount_fen
        refunded = account_balance(session, Account.REFUNDS_PAYABLE)  # only this loan's refunds in the book
        result = cancel_loan(session, loan.id, return_ref="return")
        assert result.total_fen == down + sum(paid.values()) - refunded
        assert result.down_payment_fen == down and result.refunded_before_fen == refunded
        kinds = (
            result.principal_fen,
            result.interest_fen,
            result.fee_fen,
            result.prepayment_fee_fen,
            result.penalty_fen,
            result.unapplied_fen,
        )
        assert min(kinds) >= 0 and sum(kinds) == sum(paid.values()) - refunded
        for channel, fen in paid.items():  # each channel gives back at most what came in through it
            assert 0 <= sum(i.amount_fen for i in result.items if i.channel == channel) <= fen
        assert cancel_loan(session, loan.id, return_ref="return") == result
        # Everything is refundable from the loan's credit, and the platform keeps no income from it.
        assert get_loan(session, loan.id).credit_balance_fen == result.credit_fen
        if result.credit_fen:
            assert refund_credit(session, loan.id, refund_ref="return-refund") == result.credit_fen
        for income in (Account.INTEREST_INCOME, Account.FEE_INCOME, Account.PENALTY_INCOME):
            assert account_balance(session, income) == 0
        assert account_balance(session, Account.REFUNDS_PAYABLE) == sum(paid.values())
        report = check_books(session, (loan.id, loan.id))
        assert report.ok, report.to_json()
        with pytest.raises(LoanNotOpen):
            payoff_quote(session, loan.id)


STORED = [
    "principal_outstanding_fen",
    "interest_accrued_fen",
    "interest_receivable_fen",
    "fee_receivable_fen",
    "penalty_receivable_fen",
    "credit_balance_fen",
]


@FEWER
@given(
    column=st.sampled_from(STORED),
    delta=st.integers(min_value=-5_000, max_value=5_000).filter(bool),
    days=st.sampled_from([1, 36]),
    operation=st.sampled_from(["pay", "prepay", "refund", "cancel"]),
)
def test_a_stored_figure_that_drifted_from_the_ledger_stops_any_operation(
    session: Session, column: str, delta: int, days: int, operation: str
) -> None:
    with _example(session):
        loan = _book(session, ("FEE-060", 6), {}, 300_000, 0)
        apply_repayment(session, loan_id=loan.id, amount_fen=20_000, payment_ref="before")
        _until(session, business_date(session) + timedelta(days=days))
        session.execute(text(f"UPDATE loan SET {column} = {column} + :d WHERE id = :l"), {"d": delta, "l": loan.id})
        with pytest.raises(LedgerMismatch) as caught:
            if operation == "pay":
                apply_repayment(session, loan_id=loan.id, amount_fen=1_000, payment_ref="after")
            elif operation == "prepay":
                apply_repayment(session, loan_id=loan.id, amount_fen=90_000, payment_ref="after", purpose="prepayment")
            elif operation == "refund":
                refund_credit(session, loan.id, amount_fen=1, refund_ref="after")
            else:
                cancel_loan(session, loan.id, return_ref="after")
        assert column in caught.value.differences


def test_servicing_checks_its_invariants_with_exceptions_not_asserts() -> None:
    """`assert` vanishes under `python -O`: money code must raise instead."""
    root = Path(fenqi.servicing.__file__).parent
    found = [
        f"{path.name}:{node.lineno}"
        for path in sorted(root.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assert)
    ]
    assert found == []
