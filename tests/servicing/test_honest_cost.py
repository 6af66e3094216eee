"""The payoff quote's saving, as docs/servicing.md promises it: the shopper who pays off now pays
`total`; the one who pays every bill on its due date pays `scheduled`; the quote's saving is the
difference (saved = scheduled − payoff total), split into interest and fees (net of the prepayment fee)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.pricing.service import get_product
from fenqi.servicing.cob_runs import run_cob
from fenqi.servicing.models import LoanStatus
from fenqi.servicing.service import (
    amount_due,
    apply_repayment,
    book_loan,
    get_loan,
    installments,
    next_bill,
    payoff_quote,
    unpaid,
)
from tests.servicing.support import fresh_book


def _until(session: Session, day) -> None:  # type: ignore[no-untyped-def]
    if day > business_date(session):
        run_cob(session.connection(), day - timedelta(days=1))
        session.expire_all()


@pytest.mark.parametrize(("code", "term", "prepay_rate", "rule"), [
    ("EI-12", 3, Decimal(0), "to_date"),
    ("FEE-060", 3, Decimal("0.035"), "full_period"),
])
def test_saved_is_the_schedule_left_less_the_payoff(
    session: Session, code: str, term: int, prepay_rate: Decimal, rule: str,
) -> None:
    fresh_book(session)
    product = get_product(session, code)
    product.prepayment_fee_rate, product.prepayment_interest_rule = prepay_rate, rule
    session.flush()
    loan = book_loan(session, external_ref="cost", product_code=code, financed_fen=360_000, term=term,
                     down_payment_fen=0)
    first = installments(session, loan.id)[0]
    _until(session, first.due_date)
    apply_repayment(session, loan_id=loan.id, amount_fen=amount_due(session, loan.id), payment_ref="bill-1")
    _until(session, business_date(session) + timedelta(days=9))
    quote = payoff_quote(session, loan.id)
    rows = installments(session, loan.id)
    left = sum(r.principal_fen + r.interest_fen + r.fee_fen - r.paid_principal_fen - r.paid_interest_fen
               - r.paid_fee_fen for r in rows if r.status in ("due", "pending"))
    assert quote.scheduled == left
    assert quote.saved == quote.scheduled - quote.total == quote.interest_saved + quote.fees_saved
    assert quote.interest_saved >= 0 and (quote.saved > 0 or prepay_rate > 0)
    assert quote.fees_saved == sum(r.fee_fen - r.paid_fee_fen for r in rows if r.status == "pending") - quote.fee \
        - quote.prepayment_fee

    # Paying each bill on its due date costs exactly `scheduled`.
    conn = session.connection()
    alt = conn.begin_nested()
    paid = 0
    for r in installments(session, loan.id):
        if r.status != "pending":
            continue
        _until(session, r.due_date)
        due = amount_due(session, loan.id)
        apply_repayment(session, loan_id=loan.id, amount_fen=due, payment_ref=f"bill-{r.period}")
        paid += due
    _until(session, business_date(session) + timedelta(days=1))  # close-of-business closes the loan
    assert get_loan(session, loan.id).status == LoanStatus.PAID_OFF
    assert paid == quote.scheduled
    alt.rollback()
    session.expire_all()
    # Paying the quote today closes the loan.
    apply_repayment(session, loan_id=loan.id, amount_fen=quote.total, payment_ref="payoff", purpose="payoff")
    assert get_loan(session, loan.id).status == LoanStatus.PAID_OFF


def test_a_bill_paid_early_is_paid_and_the_next_bill_moves_on(session: Session) -> None:
    fresh_book(session)
    loan = book_loan(session, external_ref="early", product_code="EI-12", financed_fen=360_000, term=3,
                     down_payment_fen=0)
    rows = installments(session, loan.id)
    first, second = unpaid(rows[0]), unpaid(rows[1])
    apply_repayment(session, loan_id=loan.id, amount_fen=first + 100, payment_ref="early-1")
    loan = get_loan(session, loan.id)
    bill = next_bill(loan, installments(session, loan.id))
    assert loan.credit_balance_fen == first + 100  # held until the due date
    assert (bill.paid_ahead, bill.period, bill.due_date, bill.to_pay_fen) == ((1,), 2, rows[1].due_date, second - 100)
    # On the first due date the credit pays the first bill; the second is still the next one.
    _until(session, rows[0].due_date + timedelta(days=1))
    loan = get_loan(session, loan.id)
    bill = next_bill(loan, installments(session, loan.id))
    assert (bill.paid_ahead, bill.period, bill.to_pay_fen, bill.overdue_fen) == ((), 2, second - 100, 0)
