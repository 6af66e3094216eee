"""Servicing on the real database: booking, repayment, early repayment, overdue, write-off, COB."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.errors import Conflict, InvalidInput, NotFound
from fenqi.ledger import Account, account_balance
from fenqi.ledger.errors import UnknownChannel
from fenqi.pricing.errors import AprAboveCap
from fenqi.pricing.models import Product
from fenqi.servicing.check import check_books
from fenqi.servicing.cob import CobInterrupted
from fenqi.servicing.cob_runs import close_day, run_cob
from fenqi.servicing.models import CobChunk, CobRun, Installment, Loan
from fenqi.servicing.service import (
    LoanNotOpen,
    apply_repayment,
    book_loan,
    get_loan,
    installments,
    payoff_quote,
    refund_credit,
    write_off,
)
from tests.servicing.support import START, digest, fresh_book, snapshot


@pytest.fixture()
def book(session: Session) -> Session:
    fresh_book(session)
    return session


def _book(
    session: Session, ref: str = "L1", code: str = "EI-12", fen: int = 499_900, term: int = 12, **kw: object
) -> Loan:
    return book_loan(session, external_ref=ref, product_code=code, financed_fen=fen, term=term, **kw)  # type: ignore[arg-type]


def _days(session: Session, n: int) -> None:
    """Close n business days on the test's own connection (inside its transaction)."""
    until = business_date(session) + timedelta(days=n - 1)
    run_cob(session.connection(), until)
    session.expire_all()


def _ok(session: Session) -> None:
    report = check_books(session)
    assert report.ok, report.to_json()


def test_booking_posts_the_principal_and_keeps_the_schedule(book: Session) -> None:
    loan = _book(book)
    rows = installments(book, loan.id)
    assert [r.due_date for r in rows[:3]] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert sum(r.principal_fen for r in rows) == 499_900
    assert loan.apr == Decimal("0.12") or abs(loan.apr - Decimal("0.12")) < Decimal("0.0001")
    assert account_balance(book, Account.PRINCIPAL_RECEIVABLE, loan_id=loan.id) == 499_900
    assert account_balance(book, Account.MERCHANT_PAYABLE) >= 499_900
    assert _book(book).id == loan.id  # idempotent by external_ref
    with pytest.raises(Conflict):
        _book(book, fen=500_000)
    _ok(book)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"term": 5}, InvalidInput),
        ({"fen": 0}, InvalidInput),
        ({"fen": -100}, InvalidInput),
        ({"code": "NOPE"}, NotFound),
        ({"annual_rate": Decimal("0.36")}, AprAboveCap),
        ({"start_date": START - timedelta(days=1)}, InvalidInput),
    ],
)
def test_booking_refuses_bad_input(book: Session, kwargs: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        _book(book, ref="bad", **kwargs)  # type: ignore[arg-type]
    assert book.scalar(select(Loan).where(Loan.external_ref == "bad")) is None


def test_an_early_payment_waits_as_credit_and_pays_the_installment_on_its_due_date(book: Session) -> None:
    loan = _book(book)
    first = installments(book, loan.id)[0]
    total = first.principal_fen + first.interest_fen
    result = apply_repayment(book, loan_id=loan.id, amount_fen=total, payment_ref="early", channel="wechatpay")
    assert result.repayment.credit_fen == total and not result.replayed
    _days(book, (first.due_date - START).days + 1)  # through the due date
    loan = get_loan(book, loan.id)
    first = installments(book, loan.id)[0]
    assert first.status == "paid" and loan.credit_balance_fen == 0 and loan.dpd == 0
    assert loan.interest_receivable_fen == 0 and loan.cur_period == 2
    assert account_balance(book, Account.CASH_WECHATPAY) >= total
    _ok(book)


def test_a_late_partial_payment_follows_the_waterfall(book: Session) -> None:
    product = book.scalar(select(Product).where(Product.code == "FEE-060"))
    assert product is not None
    product.late_fee_fen = 2_000
    loan = _book(book, code="FEE-060", term=6)
    _days(book, 60)  # two installments due (28 Feb, 31 Mar), both unpaid
    loan = get_loan(book, loan.id)
    # Unpaid at the close of its due date the installment is 1 day past due; 31 closes later, 32.
    assert loan.status == "overdue" and loan.dpd == (loan.cob_date - date(2026, 2, 28)).days + 1 == 32
    assert loan.bucket == "M2" and loan.penalty_receivable_fen > 0 and loan.fee_receivable_fen > 0
    owed_penalty, owed_fee = loan.penalty_receivable_fen, loan.fee_receivable_fen
    assert owed_penalty >= 2_000  # at least one late fee
    r = apply_repayment(book, loan_id=loan.id, amount_fen=owed_penalty + owed_fee + 100, payment_ref="late-1")
    rep = r.repayment
    assert (rep.penalty_fen, rep.fee_fen, rep.interest_fen, rep.principal_fen) == (owed_penalty, owed_fee, 0, 100)
    rows = installments(book, loan.id)
    assert rows[0].paid_principal_fen == 100 and rows[1].paid_principal_fen == 0  # oldest first
    assert r.loan.status == "overdue"
    _ok(book)


def test_a_repayment_is_applied_once_per_payment_ref(book: Session) -> None:
    loan = _book(book)
    a = apply_repayment(book, loan_id=loan.id, amount_fen=1_000, payment_ref="once")
    b = apply_repayment(book, loan_id=loan.id, amount_fen=1_000, payment_ref="once")
    assert b.replayed and b.repayment.id == a.repayment.id
    assert get_loan(book, loan.id).credit_balance_fen == 1_000
    with pytest.raises(Conflict):
        apply_repayment(book, loan_id=loan.id, amount_fen=2_000, payment_ref="once")
    with pytest.raises(UnknownChannel):
        apply_repayment(book, loan_id=loan.id, amount_fen=1, payment_ref="x", channel="cash")
    for bad in (0, -5):
        with pytest.raises(InvalidInput):
            apply_repayment(book, loan_id=loan.id, amount_fen=bad, payment_ref="y")
    with pytest.raises(NotFound):
        apply_repayment(book, loan_id=999_999, amount_fen=1, payment_ref="z")


@pytest.mark.parametrize("code,term", [("EI-12", 12), ("EP-10", 6), ("FEE-060", 6), ("IF-MERCHANT", 3)])
def test_payoff_on_the_quote_closes_the_loan_owing_nothing(book: Session, code: str, term: int) -> None:
    loan = _book(book, code=code, term=term)
    _days(book, 45)
    quote = payoff_quote(book, loan.id)
    later = payoff_quote(book, loan.id, business_date(book) + timedelta(days=20))
    assert later.total >= quote.total
    r = apply_repayment(book, loan_id=loan.id, amount_fen=quote.total, payment_ref="payoff", purpose="payoff")
    loan = get_loan(book, loan.id)
    assert loan.status == "paid_off" and r.repayment.credit_fen <= 0
    for col in (
        "principal_outstanding_fen",
        "interest_receivable_fen",
        "interest_accrued_fen",
        "fee_receivable_fen",
        "fee_accrued_fen",
        "penalty_receivable_fen",
        "credit_balance_fen",
    ):
        assert getattr(loan, col) == 0, col
    with pytest.raises(LoanNotOpen):
        payoff_quote(book, loan.id)
    _days(book, 3)  # a closed loan is left alone by COB
    assert get_loan(book, loan.id).cob_date < business_date(book) - timedelta(days=1)
    _ok(book)


@pytest.mark.parametrize("choice", ["shorter_term", "lower_installment"])
def test_partial_prepayment_reamortizes(book: Session, choice: str) -> None:
    loan = _book(book)
    _days(book, 40)
    # Pay the first installment, then prepay a third of the principal.
    first = installments(book, loan.id)[0]
    apply_repayment(book, loan_id=loan.id, amount_fen=first.principal_fen + first.interest_fen, payment_ref="i1")
    before = [r.principal_fen + r.interest_fen for r in installments(book, loan.id) if r.status == "pending"]
    outstanding = get_loan(book, loan.id).principal_outstanding_fen
    r = apply_repayment(
        book,
        loan_id=loan.id,
        amount_fen=outstanding // 3,
        payment_ref="pre",
        purpose="prepayment",
        prepayment_choice=choice,
    )
    loan = get_loan(book, loan.id)
    after = [x for x in installments(book, loan.id) if x.status == "pending"]
    assert r.repayment.principal_fen > 0 and loan.principal_outstanding_fen < outstanding
    assert sum(x.principal_fen - x.paid_principal_fen for x in after) == loan.principal_outstanding_fen
    if choice == "shorter_term":
        assert len(after) < len(before)
    else:
        assert len(after) == len(before)
        assert after[1].principal_fen + after[1].interest_fen < before[1]
    _ok(book)
    _days(book, 40)  # the rebuilt schedule's next installment falls due
    _ok(book)


def test_overdue_loans_are_written_off_and_later_payments_are_recoveries(book: Session) -> None:
    loan = _book(book, code="IF-MERCHANT", term=3)
    _days(book, 28 + 181)
    loan = get_loan(book, loan.id)
    assert loan.status == "written_off" and loan.written_off_fen >= 499_900 and loan.bucket == "M4+"
    assert account_balance(book, Account.PRINCIPAL_RECEIVABLE, loan_id=loan.id) == 0
    assert account_balance(book, Account.WRITE_OFF_EXPENSE) >= 499_900
    r = apply_repayment(book, loan_id=loan.id, amount_fen=10_000, payment_ref="rec")
    assert r.repayment.recovery_fen == 10_000
    assert account_balance(book, Account.RECOVERY_INCOME) >= 10_000
    _ok(book)


def test_manual_write_off_and_credit_refund(book: Session) -> None:
    loan = _book(book)
    apply_repayment(book, loan_id=loan.id, amount_fen=5_000, payment_ref="c")
    assert refund_credit(book, loan.id, amount_fen=2_000, refund_ref="r1") == 2_000
    with pytest.raises(InvalidInput):
        refund_credit(book, loan.id, amount_fen=10_000, refund_ref="r2")
    assert account_balance(book, Account.REFUNDS_PAYABLE) >= 2_000
    write_off(book, loan.id)
    with pytest.raises(LoanNotOpen):
        write_off(book, loan.id)
    _ok(book)


def test_penalties_stay_within_the_apr_cap(book: Session) -> None:
    """A loan never repaid: its penalty charges never exceed the cap budget, (cap − APR) on the balance."""
    product = book.scalar(select(Product).where(Product.code == "EI-12"))
    assert product is not None
    product.penalty_daily_rate = Decimal("0.01")  # 365% a year: only the cap stops it
    product.late_fee_fen = 50_000
    loan = _book(book, fen=100_000, term=3)
    for _ in range(6):
        _days(book, 30)
        loan = get_loan(book, loan.id)
        assert loan.penalty_charged_fen <= loan.cap_budget_nfen // 10**9
    # By then about five months at (24% − 12%) on 1000 yuan: about 50 yuan of penalties, not 365% worth.
    assert 4_000 <= loan.penalty_charged_fen <= 6_000
    _ok(book)


def test_cob_is_idempotent_per_date(book: Session) -> None:
    ids = [_book(book, ref=f"L{i}", fen=100_000 + i).id for i in range(3)]
    _days(book, 35)
    first = snapshot(book, ids)
    closed = business_date(book) - timedelta(days=1)
    run_cob(book.connection(), closed)  # a date already closed
    close_day(book.connection(), closed)
    book.expire_all()
    assert snapshot(book, ids) == first
    assert business_date(book) == closed + timedelta(days=1)


def test_cob_killed_midway_and_rerun_ends_as_an_uninterrupted_run(book: Session) -> None:
    ids = [
        _book(book, ref=f"L{i}", code=c, fen=200_000 + 37 * i, term=t).id
        for i, (c, t) in enumerate([("EI-12", 12), ("EP-10", 6), ("FEE-060", 3), ("IF-MERCHANT", 3)] * 2)
    ]
    apply_repayment(book, loan_id=ids[0], amount_fen=1_000, payment_ref="p0")
    _days(book, 58)  # reach an interesting day: installments due, overdue, penalties
    conn = book.connection()
    day = business_date(book)

    with conn.begin_nested() as straight:
        close_day(conn, day, chunk_size=2)
        book.expire_all()
        want = snapshot(book, ids)
        straight.rollback()
    book.expire_all()
    for stop in (0, 1, 3):
        with conn.begin_nested() as interrupted:
            with pytest.raises(CobInterrupted):
                close_day(conn, day, chunk_size=2, stop_after=stop)
            book.expire_all()
            chunks = book.scalars(
                select(CobChunk.status).join(CobRun, CobRun.id == CobChunk.run_id).where(CobRun.business_date == day)
            ).all()
            assert chunks.count("done") == stop
            close_day(conn, day, chunk_size=2)  # resume
            book.expire_all()
            assert snapshot(book, ids) == want
            interrupted.rollback()
        book.expire_all()


# The same scenario closes to the same figures on SQLite and PostgreSQL: the digest is a constant.
SCENARIO_DIGEST = "4593128977a521c8"


def test_the_same_scenario_gives_the_same_books_on_both_databases(book: Session) -> None:
    ids = []
    for i, (code, term) in enumerate([("EI-12", 12), ("EP-10", 12), ("FEE-060", 6), ("IF-MERCHANT", 6)] * 2):
        ids.append(_book(book, ref=f"S{i}", code=code, fen=300_000 + 4_321 * i, term=term).id)
    for day in range(100):
        today = business_date(book)
        for n, loan_id in enumerate(ids):
            if today.day == 3 + n and n % 3 != 2:  # some pay a bit each month, some never
                apply_repayment(book, loan_id=loan_id, amount_fen=40_000 + 1_000 * n, payment_ref=f"s{loan_id}-{today}")
        if day == 50:
            q = payoff_quote(book, ids[3])
            apply_repayment(book, loan_id=ids[3], amount_fen=q.total, payment_ref="s-payoff", purpose="payoff")
        _days(book, 1)
    _ok(book)
    # Loan ids differ between runs of the suite: number the loans 0..7 instead.
    index = {str(loan_id): str(i) for i, loan_id in enumerate(ids)}
    where = {18: 0, 11: 0, 6: 3}  # the loan id's place in loan, installment and journal rows
    rows = [tuple(index[v] if k == where[len(r)] else v for k, v in enumerate(r)) for r in snapshot(book, ids)]
    assert digest(rows) == SCENARIO_DIGEST


def test_installment_table_and_loan_agree_after_a_long_run(book: Session) -> None:
    for i in range(4):
        _book(book, ref=f"R{i}", code=["EI-12", "EP-10", "FEE-060", "IF-MERCHANT"][i], term=[12, 6, 6, 3][i])
    _days(book, 100)
    _ok(book)
    assert book.scalar(text("SELECT COUNT(*) FROM cob_scratch")) == 0
    assert book.scalar(select(Installment.id).where(Installment.status == "due")) is not None


def test_amount_due_is_what_brings_the_loan_up_to_date(book: Session) -> None:
    from fenqi.servicing.service import amount_due

    loan = _book(book, code="FEE-060", term=6)
    first = installments(book, loan.id)[0]
    assert amount_due(book, loan.id) == 0
    assert amount_due(book, loan.id, first.due_date) == first.principal_fen + first.fee_fen
    _days(book, 40)
    owed = amount_due(book, loan.id)
    assert owed > first.principal_fen + first.fee_fen  # penalties since
    apply_repayment(book, loan_id=loan.id, amount_fen=owed, payment_ref="catch-up")
    loan = get_loan(book, loan.id)
    assert amount_due(book, loan.id) == 0 and loan.dpd == 0 and loan.status == "active"
    _ok(book)


@pytest.mark.parametrize("code,term", [("EI-12", 6), ("FEE-060", 3), ("IF-MERCHANT", 3)])
def test_a_returned_phone_cancels_the_loan_and_refunds_what_was_paid(book: Session, code: str, term: int) -> None:
    from fenqi.servicing.service import cancel_loan

    loan = _book(book, code=code, term=term)
    _days(book, 45)  # interest accrued, one installment due, penalties
    paid = 30_000
    apply_repayment(book, loan_id=loan.id, amount_fen=paid, payment_ref="before-return")
    merchant_before = account_balance(book, Account.MERCHANT_PAYABLE)
    result = cancel_loan(book, loan.id, return_ref="RMA-1")
    loan = result.loan
    assert loan.status == "cancelled" and loan.credit_balance_fen == paid == result.total_fen
    assert cancel_loan(book, loan.id, return_ref="RMA-1") == result  # idempotent
    assert account_balance(book, Account.MERCHANT_PAYABLE) == merchant_before - 499_900
    for account in (
        Account.PRINCIPAL_RECEIVABLE,
        Account.INTEREST_ACCRUED,
        Account.INTEREST_RECEIVABLE,
        Account.FEE_RECEIVABLE,
        Account.PENALTY_RECEIVABLE,
    ):
        assert account_balance(book, account, loan_id=loan.id) == 0
    # The only loan of this test earned nothing in the end: every fen of income was reversed.
    incomes = (Account.INTEREST_INCOME, Account.FEE_INCOME, Account.PENALTY_INCOME)
    assert [account_balance(book, a) for a in incomes] == [0, 0, 0]
    assert refund_credit(book, loan.id, refund_ref="RMA-1-refund") == paid
    _ok(book)
    _days(book, 5)  # a cancelled loan is left alone
    assert get_loan(book, loan.id).cob_date < business_date(book) - timedelta(days=1)
    with pytest.raises(LoanNotOpen):
        payoff_quote(book, loan.id)


def test_the_ledger_check_catches_what_it_should(book: Session) -> None:
    loan = _book(book)
    _ok(book)
    with book.begin_nested() as sp:  # a loan figure that drifted from its ledger
        book.execute(
            text("UPDATE loan SET principal_outstanding_fen = principal_outstanding_fen - 1 WHERE id = :l"),
            {"l": loan.id},
        )
        report = check_books(book)
        assert not report.ok and report.loan_mismatches[0]["loan_id"] == loan.id
        assert report.schedule_mismatches  # the installments no longer agree either
        sp.rollback()
    with book.begin_nested() as sp:  # a journal line without its entry
        book.execute(
            text(
                "INSERT INTO journal_line (entry_id, account, loan_id, debit_fen, credit_fen) "
                "VALUES (987654321, 'cash_bank', NULL, 5, 0)"
            )
        )
        report = check_books(book)
        assert report.orphan_lines_of == [987654321] and not report.ok
        sp.rollback()
    with book.begin_nested() as sp:  # dpd that does not follow from the due dates
        book.execute(text("UPDATE loan SET dpd = 7 WHERE id = :l"), {"l": loan.id})
        assert check_books(book).delinquency_mismatches[0]["loan_id"] == loan.id
        sp.rollback()
    _ok(book)
