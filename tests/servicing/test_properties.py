"""Property: any sequence of operations on a loan keeps the books sound.

Operations: book, pay any amount, prepay (shorter term or lower installment), pay off, let days pass
(close-of-business), write off, refund the credit balance (and retry the refund), return the phone.
After every sequence: the ledger balances,
the loan's figures equal its ledger and its schedule, nothing outstanding is negative, no fen is
created or lost (cash received = what was allocated + the change of the credit balance; principal
booked = outstanding + repaid + written off), and a paid-off loan owes nothing.

Each example runs in its own savepoint of the test's transaction; close-of-business runs on the same
connection. Examples are kept cheap (a loan of at most 6 periods, at most 5 operations, at most ~100
days) so that the default profile's 500 examples run in about a minute per database.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.ledger import Account, account_balance
from fenqi.servicing.check import check_books
from fenqi.servicing.cob_runs import run_cob
from fenqi.servicing.models import Repayment
from fenqi.servicing.service import (
    LoanNotOpen,
    apply_repayment,
    book_loan,
    cancel_loan,
    get_loan,
    payoff_quote,
    refund_credit,
    write_off,
)
from tests.servicing.support import DB, IS_POSTGRES, fresh_book

PRODUCTS = [("EI-12", 3), ("EI-12", 6), ("EP-10", 6), ("FEE-060", 3), ("FEE-060", 6), ("IF-MERCHANT", 3)]

ops = st.one_of(
    st.tuples(st.just("pay"), st.integers(min_value=1, max_value=400_000)),
    st.tuples(
        st.just("prepay"),
        st.integers(min_value=1, max_value=400_000),
        st.sampled_from(["shorter_term", "lower_installment"]),
    ),
    st.tuples(st.just("payoff")),
    st.tuples(st.just("days"), st.sampled_from([1, 2, 5, 13, 29, 31, 36])),
    st.tuples(st.just("write_off")),
    st.tuples(st.just("refund")),
    st.tuples(st.just("return")),
)


def _apply(session: Session, loan_id: int, op: tuple, n: int) -> None:  # type: ignore[type-arg]
    kind = op[0]
    ref = f"prop-{n}"
    try:
        if kind == "pay":
            apply_repayment(session, loan_id=loan_id, amount_fen=op[1], payment_ref=ref, channel="alipay")
        elif kind == "prepay":
            apply_repayment(
                session,
                loan_id=loan_id,
                amount_fen=op[1],
                payment_ref=ref,
                purpose="prepayment",
                prepayment_choice=op[2],
            )
        elif kind == "payoff":
            quote = payoff_quote(session, loan_id)
            if quote.total > 0:
                apply_repayment(session, loan_id=loan_id, amount_fen=quote.total, payment_ref=ref, purpose="payoff")
                assert get_loan(session, loan_id).status == "paid_off"
        elif kind == "days":
            run_cob(session.connection(), business_date(session) + timedelta(days=op[1] - 1))
            session.expire_all()
        elif kind == "write_off":
            write_off(session, loan_id)
        elif kind == "refund":
            loan = get_loan(session, loan_id)
            if loan.credit_balance_fen:
                moved = refund_credit(session, loan_id, refund_ref=ref)
                assert refund_credit(session, loan_id, refund_ref=ref) == moved  # a retry moves nothing more
        elif kind == "return":
            cancel_loan(session, loan_id, return_ref=ref)
    except LoanNotOpen:
        pass


def _assert_sound(session: Session, loan_id: int, cash_before: int) -> None:
    """`cash_before`: the cash account's balance before the loan was booked (other loans may share the book)."""
    report = check_books(session, (loan_id, loan_id))
    assert report.ok, report.to_json()
    loan = get_loan(session, loan_id)
    reps = session.execute(
        select(
            func.coalesce(func.sum(Repayment.amount_fen), 0),
            func.coalesce(
                func.sum(
                    Repayment.penalty_fen
                    + Repayment.fee_fen
                    + Repayment.interest_fen
                    + Repayment.principal_fen
                    + Repayment.prepayment_fee_fen
                    + Repayment.recovery_fen
                    + Repayment.credit_fen
                ),
                0,
            ),
            func.coalesce(func.sum(Repayment.principal_fen), 0),
        ).where(Repayment.loan_id == loan_id)
    ).one()
    cash, allocated, principal_repaid = (int(x) for x in reps)
    assert cash == allocated  # every fen received is allocated or held as credit
    assert cash == account_balance(session, Account.CASH_ALIPAY) - cash_before  # and all of it is in the cash account
    # Principal leaves the receivable only by being paid (in cash or from the credit balance) or written off.
    by_reason = dict(
        session.execute(
            text(
                "SELECT e.reason, SUM(x.credit_fen) FROM journal_line x JOIN journal_entry e ON e.id = x.entry_id "
                "WHERE x.account = 'principal_receivable' AND x.loan_id = :l AND x.credit_fen > 0 GROUP BY e.reason"
            ),
            {"l": loan_id},
        ).all()
    )
    assert set(by_reason) <= {"repayment", "prepayment", "credit_applied", "write_off", "cancellation"}
    from_credit = int(by_reason.get("credit_applied") or 0)
    written_off = int(by_reason.get("write_off") or 0)
    returned = int(by_reason.get("cancellation") or 0)  # unpaid principal a return cancelled
    assert loan.financed_fen == loan.principal_outstanding_fen + principal_repaid + from_credit + written_off + returned
    # The credit balance is what payments left over, less what was applied or refunded.
    moved = dict(
        session.execute(
            text(
                "SELECT e.reason, SUM(x.debit_fen) FROM journal_line x JOIN journal_entry e ON e.id = x.entry_id "
                "WHERE x.account = 'customer_credit' AND x.loan_id = :l AND e.reason IN ('credit_applied', 'refund') "
                "GROUP BY e.reason"
            ),
            {"l": loan_id},
        ).all()
    )
    credit_left = int(
        session.scalar(select(func.coalesce(func.sum(Repayment.credit_fen), 0)).where(Repayment.loan_id == loan_id))
        or 0
    )
    # A return credits everything the shopper had paid to receivables back to the credit balance.
    from_return = int(
        session.scalar(
            text(
                "SELECT COALESCE(SUM(x.credit_fen), 0) FROM journal_line x JOIN journal_entry e ON e.id = x.entry_id "
                "WHERE x.account = 'customer_credit' AND x.loan_id = :l AND e.reason = 'cancellation'"
            ),
            {"l": loan_id},
        )
        or 0
    )
    assert loan.credit_balance_fen == credit_left + from_return - sum(int(v or 0) for v in moved.values())
    assert loan.credit_balance_fen >= 0
    if loan.status == "paid_off":
        owed = (
            loan.principal_outstanding_fen,
            loan.interest_receivable_fen,
            loan.interest_accrued_fen,
            loan.fee_receivable_fen,
            loan.fee_accrued_fen,
            loan.penalty_receivable_fen,
        )
        assert owed == (0, 0, 0, 0, 0, 0)


@DB
@given(
    product=st.sampled_from(PRODUCTS),
    financed=st.integers(min_value=10_000, max_value=800_000),
    sequence=st.lists(ops, min_size=1, max_size=5),
)
def test_any_sequence_of_operations_keeps_the_books_sound(
    session: Session,
    product: tuple[str, int],
    financed: int,
    sequence: list[tuple],  # type: ignore[type-arg]
) -> None:
    conn = session.connection()
    with conn.begin_nested() as example:
        fresh_book(session)
        cash_before = account_balance(session, Account.CASH_ALIPAY)
        loan = book_loan(session, external_ref="prop", product_code=product[0], financed_fen=financed, term=product[1])
        for n, op in enumerate(sequence):
            _apply(session, loan.id, op, n)
        session.flush()
        _assert_sound(session, loan.id, cash_before)
        if IS_POSTGRES:
            session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # the deferred balance trigger checks now
        example.rollback()
    session.expunge_all()  # the next example may reuse the rolled-back ids


@pytest.mark.parametrize("product", [("EI-12", 3), ("FEE-060", 3), ("IF-MERCHANT", 3)])
def test_a_loan_paid_on_time_ends_paid_off_owing_nothing(session: Session, product: tuple[str, int]) -> None:
    """The happy path through every period: pay each installment on its due date."""
    from fenqi.servicing.service import installments

    fresh_book(session)
    cash_before = account_balance(session, Account.CASH_ALIPAY)
    loan = book_loan(session, external_ref="happy", product_code=product[0], financed_fen=300_000, term=product[1])
    for row in installments(session, loan.id):
        days = (row.due_date - business_date(session)).days
        if days > 0:
            run_cob(session.connection(), row.due_date - timedelta(days=1))
            session.expire_all()
        apply_repayment(
            session,
            loan_id=loan.id,
            amount_fen=row.principal_fen + row.interest_fen + row.fee_fen,
            payment_ref=f"happy-{row.period}",
        )
        run_cob(session.connection(), row.due_date)
        session.expire_all()
    loan = get_loan(session, loan.id)
    assert loan.status == "paid_off" and loan.credit_balance_fen == 0 and loan.penalty_charged_fen == 0
    _assert_sound(session, loan.id, cash_before)
