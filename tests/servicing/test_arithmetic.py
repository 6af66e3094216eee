"""Servicing arithmetic against docs/servicing.md: each case as it was found wrong, with its figures."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date, set_business_date
from fenqi.pricing.models import Product
from fenqi.pricing.service import get_product
from fenqi.servicing.check import check_books
from fenqi.servicing.cob_runs import run_cob
from fenqi.servicing.models import Loan
from fenqi.servicing.service import apply_repayment, book_loan, get_loan, installments, payoff_quote, repayments
from tests.servicing.support import fresh_book


def _product(session: Session, code: str, rate: str, prepayment_fee: str, terms: list[int]) -> None:
    session.add(
        Product(
            code=code,
            name_zh=code,
            name_en=code,
            method="equal-installment",
            terms=terms,
            annual_rate=Decimal(rate),
            prepayment_fee_rate=Decimal(prepayment_fee),
        )
    )
    session.flush()


def _until(session: Session, day: date) -> None:
    """Close every business date before `day`: the business date becomes `day`."""
    run_cob(session.connection(), day - timedelta(days=1))
    session.expire_all()
    assert business_date(session) == day


def _ok(session: Session) -> None:
    report = check_books(session)
    assert report.ok, report.to_json()


def _owes(loan: Loan) -> int:
    return (
        loan.principal_outstanding_fen
        + loan.interest_accrued_fen
        + loan.interest_receivable_fen
        + loan.fee_accrued_fen
        + loan.fee_receivable_fen
        + loan.penalty_receivable_fen
    )


def _start(session: Session, day: date) -> None:
    fresh_book(session, day)
    set_business_date(session, day)
    session.flush()


def test_10_a_payoff_of_the_quote_takes_the_principal_it_covers_and_closes_the_loan(session: Session) -> None:
    _start(session, date(2028, 1, 9))
    _product(session, "EI-15-PF2", "0.15", "0.02", [6])
    loan = book_loan(session, external_ref="i10", product_code="EI-15-PF2", financed_fen=781_215, term=6)
    _until(session, date(2028, 1, 22))
    quote = payoff_quote(session, loan.id)
    assert quote.total == 800_934  # 8,009.34 as quoted to the shopper
    apply_repayment(session, loan_id=loan.id, amount_fen=quote.total, payment_ref="i10", purpose="payoff")
    loan = get_loan(session, loan.id)
    assert (loan.status, _owes(loan), loan.credit_balance_fen) == ("paid_off", 0, 0)
    _ok(session)


def test_11_a_payoff_on_a_due_date_charges_what_the_quote_said(session: Session) -> None:
    _start(session, date(2026, 3, 1))
    get_product(session, "EI-12").prepayment_fee_rate = Decimal("0.02")
    loan = book_loan(session, external_ref="i11", product_code="EI-12", financed_fen=1_000_000, term=6)
    _until(session, date(2026, 5, 1))
    quote = payoff_quote(session, loan.id)
    # Before: the quote charged the 2% fee on principal not yet due, the payment on all of it (32.19 short).
    apply_repayment(session, loan_id=loan.id, amount_fen=quote.total, payment_ref="i11", purpose="payoff")
    loan = get_loan(session, loan.id)
    assert (loan.status, _owes(loan), loan.credit_balance_fen) == ("paid_off", 0, 0)
    _ok(session)


def test_12_a_quote_after_the_last_due_date_counts_the_schedule_interest_once(session: Session) -> None:
    _start(session, date(2026, 3, 1))
    loan = book_loan(session, external_ref="i12", product_code="EI-12", financed_fen=1_000_000, term=3)
    _until(session, date(2026, 3, 11))
    quote = payoff_quote(session, loan.id, date(2026, 6, 2))
    scheduled = sum(r.interest_fen for r in installments(session, loan.id))
    assert scheduled == 20_067
    assert quote.interest == scheduled


def test_13_a_second_prepayment_in_a_period_prorates_over_the_period_s_days(session: Session) -> None:
    _start(session, date(2026, 3, 1))
    loan = book_loan(session, external_ref="i13", product_code="EI-12", financed_fen=1_000_000, term=3)
    _until(session, date(2026, 3, 11))
    for ref, amount in (("i13-a", 300_000), ("i13-b", 200_029)):
        if ref == "i13-b":
            _until(session, date(2026, 3, 26))
        apply_repayment(
            session,
            loan_id=loan.id,
            amount_fen=amount,
            payment_ref=ref,
            purpose="prepayment",
            prepayment_choice="lower_installment",
        )
    loan = get_loan(session, loan.id)
    assert loan.principal_outstanding_fen == 506_600
    # The new schedule's first period (50.66 on 5,066.00 a month) for the 6 of the period's 31 days left,
    # not for 6 of the 21 days since the first prepayment (14.47).
    current = installments(session, loan.id)[0]
    assert loan.cur_interest_fen == current.interest_fen - current.paid_interest_fen == 981
    _until(session, date(2026, 4, 2))
    _ok(session)


def test_14_a_return_refunds_prepayment_fees_and_the_down_payment_too(session: Session) -> None:
    from fenqi.servicing.service import cancel_loan

    _start(session, date(2026, 3, 1))
    get_product(session, "EI-12").prepayment_fee_rate = Decimal("0.02")
    loan = book_loan(
        session, external_ref="i14", product_code="EI-12", financed_fen=500_000, term=6, down_payment_fen=100_000
    )
    _until(session, date(2026, 3, 20))
    paid = [("i14-a", "alipay", 30_000, "installment"), ("i14-b", "wechatpay", 200_000, "prepayment")]
    for ref, channel, amount, purpose in paid:
        apply_repayment(session, loan_id=loan.id, amount_fen=amount, payment_ref=ref, channel=channel, purpose=purpose)
    prepayment_fee = sum(r.prepayment_fee_fen for r in repayments(session, loan.id))
    assert prepayment_fee > 0
    result = cancel_loan(session, loan.id, return_ref="RMA-14")
    # Everything the shopper paid comes back: the down payment and both payments, through their channels.
    assert [(i.item, i.channel, i.payment_ref, i.amount_fen) for i in result.items] == [
        ("down_payment", None, None, 100_000),
        ("payment", "alipay", "i14-a", 30_000),
        ("payment", "wechatpay", "i14-b", 200_000),
    ]
    assert result.total_fen == 330_000 and result.prepayment_fee_fen == prepayment_fee
    assert result.loan.credit_balance_fen == result.credit_fen == 230_000  # before: less the prepayment fee
    paid_for = (
        result.principal_fen,
        result.interest_fen,
        result.fee_fen,
        result.prepayment_fee_fen,
        result.penalty_fen,
        result.unapplied_fen,
    )
    assert sum(paid_for) == 230_000
    assert cancel_loan(session, loan.id, return_ref="RMA-14") == result  # asking again answers the same
    assert result.to_json()["total"] == "3300.00"
    _ok(session)


def test_15_a_loan_owing_only_penalty_ages_and_is_written_off(session: Session) -> None:
    _start(session, date(2026, 3, 1))
    product = get_product(session, "FEE-060")
    product.late_fee_fen = 1_000
    product.allocation_order = ["principal", "interest", "fee", "penalty"]  # penalty last
    loan = book_loan(session, external_ref="i15", product_code="FEE-060", financed_fen=300_000, term=3)
    first_due = installments(session, loan.id)[0].due_date
    _until(session, date(2026, 6, 10))  # all three installments unpaid, penalty charged
    loan = get_loan(session, loan.id)
    owed = loan.principal_outstanding_fen + loan.fee_receivable_fen + loan.interest_receivable_fen
    assert loan.penalty_receivable_fen > 0
    apply_repayment(session, loan_id=loan.id, amount_fen=owed, payment_ref="i15-all-but-penalty")
    loan = get_loan(session, loan.id)
    assert _owes(loan) == loan.penalty_receivable_fen > 0
    # The penalty keeps the age of the arrears it was charged on.
    dpd = (date(2026, 6, 9) - first_due).days + 1
    assert (loan.status, loan.oldest_unpaid_due, loan.dpd) == ("overdue", first_due, dpd)
    _until(session, date(2026, 7, 1))
    loan = get_loan(session, loan.id)
    assert loan.status == "overdue" and loan.dpd == (date(2026, 6, 30) - first_due).days + 1
    _ok(session)
    with session.begin_nested() as paid:  # paying the penalty closes the loan
        apply_repayment(session, loan_id=loan.id, amount_fen=loan.penalty_receivable_fen, payment_ref="i15-penalty")
        assert get_loan(session, loan.id).status == "paid_off"
        paid.rollback()
    session.expire_all()
    _until(session, first_due + timedelta(days=180))  # unpaid: written off at 180 days past due
    loan = get_loan(session, loan.id)
    assert loan.status == "written_off" and loan.dpd == 180 and loan.written_off_fen > 0
    _ok(session)


def test_16_an_installment_unpaid_at_the_close_of_its_due_date_is_overdue_at_that_close(session: Session) -> None:
    _start(session, date(2026, 3, 1))
    loan = book_loan(session, external_ref="i16", product_code="EI-12", financed_fen=300_000, term=3)
    first = installments(session, loan.id)[0]
    _until(session, first.due_date + timedelta(days=1))  # closed through the due date
    loan = get_loan(session, loan.id)
    assert (loan.status, loan.dpd, loan.bucket) == ("overdue", 1, "M1")
    _ok(session)


@pytest.mark.parametrize("choice", ["shorter_term", "lower_installment"])
def test_16_paying_the_installment_then_prepaying_on_its_due_date_leaves_the_loan_current(
    session: Session, choice: str
) -> None:
    _start(session, date(2026, 3, 1))
    loan = book_loan(session, external_ref="i16b", product_code="EI-12", financed_fen=300_000, term=3)
    first = installments(session, loan.id)[0]
    _until(session, first.due_date)
    owed = first.principal_fen + first.interest_fen
    apply_repayment(session, loan_id=loan.id, amount_fen=owed, payment_ref="i16-installment")
    apply_repayment(
        session,
        loan_id=loan.id,
        amount_fen=50_000,
        payment_ref="i16-prepay",
        purpose="prepayment",
        prepayment_choice=choice,
    )
    _until(session, first.due_date + timedelta(days=1))
    loan = get_loan(session, loan.id)
    assert (loan.status, loan.dpd, loan.credit_balance_fen) == ("active", 0, 0)
    assert installments(session, loan.id)[0].status == "paid"
    _ok(session)


def test_17_refunding_credit_twice_with_one_reference_moves_it_once(session: Session) -> None:
    from fenqi.servicing.service import refund_credit

    _start(session, date(2026, 3, 1))
    loan = book_loan(session, external_ref="i17", product_code="EI-12", financed_fen=300_000, term=3)
    apply_repayment(session, loan_id=loan.id, amount_fen=5_000, payment_ref="i17-pay")
    assert refund_credit(session, loan.id, amount_fen=2_000, refund_ref="i17-r") == 2_000
    assert refund_credit(session, loan.id, amount_fen=2_000, refund_ref="i17-r") == 2_000  # a retry
    assert get_loan(session, loan.id).credit_balance_fen == 3_000  # before: 1,000 (moved twice, posted once)
    _ok(session)


def test_17_a_stored_figure_that_drifts_from_the_ledger_stops_the_operation(session: Session) -> None:
    from sqlalchemy import text

    from fenqi.servicing.service import LedgerMismatch, refund_credit

    _start(session, date(2026, 3, 1))
    loan = book_loan(session, external_ref="i17b", product_code="EI-12", financed_fen=300_000, term=3)
    apply_repayment(session, loan_id=loan.id, amount_fen=5_000, payment_ref="i17b-pay")
    session.execute(text("UPDATE loan SET credit_balance_fen = 9000 WHERE id = :l"), {"l": loan.id})
    with pytest.raises(LedgerMismatch) as caught:
        refund_credit(session, loan.id, amount_fen=6_000, refund_ref="i17b-r")
    assert not isinstance(caught.value, AssertionError)
    assert caught.value.differences == {"credit_balance_fen": (9_000, 5_000)}  # found before refunding anything
