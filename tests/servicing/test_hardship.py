"""Hardship (纾困) on the real database, from what docs/collections.md promises: a payment holiday, a
re-ageing, a restructure and a settlement offer, each approved by a second person, with the books clean
and close-of-business working across the new schedule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import rate_as_disclosed
from fenqi.kit.settings import get_settings
from fenqi.ledger import Account, account_balance
from fenqi.pricing.errors import AprAboveCap
from fenqi.servicing import hardship
from fenqi.servicing.check import check_books
from fenqi.servicing.cob_runs import run_cob
from fenqi.servicing.hardship import HardshipRefused, SameApprover
from fenqi.servicing.loans import owed_fen
from fenqi.servicing.models import HardshipStatus, InstallmentStatus, Loan, LoanStatus
from fenqi.servicing.service import apply_repayment, book_loan, get_loan, installments, verify_against_ledger
from tests.servicing.support import DB, PROFILE, START, fresh_book

MAKER, CHECKER = 101, 202
FEW = settings(DB, max_examples={"dev": 10, "ci": 12, "nightly": 250}.get(PROFILE, 12))


def _book(session: Session, ref: str = "H1", code: str = "EI-12", fen: int = 600_000, term: int = 12,
          **kw: object) -> Loan:
    return book_loan(session, external_ref=ref, product_code=code, financed_fen=fen, term=term, **kw)  # type: ignore[arg-type]


def _until(session: Session, day: date) -> None:
    """Close every business date before `day` (the test's own connection and transaction)."""
    if day > business_date(session):
        run_cob(session.connection(), day - timedelta(days=1))
        session.expire_all()


def _ok(session: Session) -> None:
    report = check_books(session)
    assert report.ok, report.to_json()


def _open_rows(session: Session, loan_id: int) -> list:  # type: ignore[type-arg]
    return [r for r in installments(session, loan_id) if r.status in (InstallmentStatus.PENDING, InstallmentStatus.DUE)]


def _approve(session: Session, loan_id: int, kind: str, **kw: object) -> hardship.HardshipArrangement:
    arr = hardship.propose(session, loan_id=loan_id, kind=kind, requested_by=MAKER, **kw)  # type: ignore[arg-type]
    return hardship.approve(session, arr.id, user_id=CHECKER)


def _pay_due(session: Session, loan_id: int, ref: str) -> None:
    """Pay what is owed today (past-due installments and penalty)."""
    loan = get_loan(session, loan_id)
    owed = loan.interest_receivable_fen + loan.fee_receivable_fen + loan.penalty_receivable_fen + sum(
        r.principal_fen - r.paid_principal_fen for r in installments(session, loan_id) if r.status == "due"
    )
    if owed:
        apply_repayment(session, loan_id=loan_id, amount_fen=owed, payment_ref=ref)


def _schedule_sums(session: Session, loan: Loan) -> None:
    """The open schedule repays exactly the principal outstanding."""
    rows = _open_rows(session, loan.id)
    assert sum(r.principal_fen - r.paid_principal_fen for r in rows) == loan.principal_outstanding_fen


def test_same_user_cannot_approve_and_a_decision_is_final(session: Session) -> None:
    fresh_book(session)
    loan = _book(session)
    arr = hardship.propose(session, loan_id=loan.id, kind="holiday", months=2, requested_by=MAKER)
    with pytest.raises(SameApprover) as err:
        hardship.approve(session, arr.id, user_id=MAKER)
    assert "另一名员工" in err.value.message("zh") and "someone other" in err.value.message("en")
    with pytest.raises(SameApprover):
        hardship.reject(session, arr.id, user_id=MAKER)
    assert hardship.get_arrangement(session, arr.id).status == HardshipStatus.PROPOSED
    with pytest.raises(HardshipRefused):  # one open arrangement per loan
        hardship.propose(session, loan_id=loan.id, kind="holiday", months=1, requested_by=CHECKER)
    hardship.reject(session, arr.id, user_id=CHECKER)
    with pytest.raises(hardship.Conflict):
        hardship.approve(session, arr.id, user_id=CHECKER)


def test_payment_holiday_shifts_the_schedule_and_cob_keeps_working(session: Session) -> None:
    fresh_book(session)
    loan = _book(session)
    _until(session, START + timedelta(days=10))  # mid-period: some interest accrued
    before = [(r.period, r.due_date) for r in installments(session, loan.id)]
    principal = get_loan(session, loan.id).principal_outstanding_fen
    arr = _approve(session, loan.id, "holiday", months=2)
    loan = get_loan(session, loan.id)
    rows = installments(session, loan.id)
    assert [r.period for r in rows] == list(range(1, 15))
    assert all(r.principal_fen + r.interest_fen + r.fee_fen == 0 for r in rows[:2])  # the holiday periods
    # The first paying installment is the old period 1's due date moved two periods on.
    assert rows[2].due_date == before[2][1] and rows[13].due_date == date(2027, 3, 31)
    assert loan.term == 14 and loan.principal_outstanding_fen == principal
    _schedule_sums(session, loan)
    # Interest accrues in the holiday: the new schedule costs more than the old one's rest, APR as disclosed.
    assert arr.apr is not None and Decimal("0.11") < arr.apr <= get_settings().apr_cap
    assert loan.apr == arr.apr
    _ok(session)
    # Close days across the holiday: nothing falls due, the loan stays current.
    _until(session, rows[2].due_date)
    loan = get_loan(session, loan.id)
    assert (loan.dpd, loan.status, loan.cur_period) == (0, LoanStatus.ACTIVE, 3)
    assert all(r.status == InstallmentStatus.PAID for r in installments(session, loan.id)[:2])
    _ok(session)
    # Period 3 falls due and is not paid: one day past due after its close.
    _until(session, rows[2].due_date + timedelta(days=2))
    loan = get_loan(session, loan.id)
    assert loan.dpd == 2 and loan.interest_receivable_fen == rows[2].interest_fen
    _pay_due(session, loan.id, "h-pay-3")
    _until(session, rows[3].due_date + timedelta(days=1))
    _pay_due(session, loan.id, "h-pay-4")
    _ok(session)
    assert get_loan(session, loan.id).dpd <= 1


def test_payment_holiday_refused_in_arrears(session: Session) -> None:
    fresh_book(session)
    loan = _book(session)
    _until(session, installments(session, loan.id)[0].due_date + timedelta(days=3))
    with pytest.raises(HardshipRefused) as err:
        hardship.propose(session, loan_id=loan.id, kind="holiday", months=1, requested_by=MAKER)
    assert "逾期" in err.value.message("zh")
    with pytest.raises(InvalidInput):
        hardship.propose(session, loan_id=loan.id, kind="holiday", months=9, requested_by=MAKER)


def test_reage_after_three_good_payments_resets_status_and_moves_arrears_to_the_end(session: Session) -> None:
    fresh_book(session)
    loan = _book(session)
    rows = installments(session, loan.id)
    amount = rows[1].principal_fen + rows[1].interest_fen
    _until(session, rows[0].due_date + timedelta(days=5))  # period 1 missed
    with pytest.raises(HardshipRefused):  # no run of good payments yet
        hardship.propose(session, loan_id=loan.id, kind="reage", requested_by=MAKER)
    for k in (1, 2, 3):  # then an installment's worth paid on each of the next three due dates
        _until(session, rows[k].due_date)
        apply_repayment(session, loan_id=loan.id, amount_fen=amount + 2_000, payment_ref=f"good-{k}")
    # Each payment cleared the oldest arrears; the installment falling due that day is late in turn.
    _until(session, rows[3].due_date + timedelta(days=2))
    loan = get_loan(session, loan.id)
    assert loan.dpd > 0 and loan.status == LoanStatus.OVERDUE
    owed_before = sum(r.principal_fen + r.interest_fen + r.fee_fen - r.paid_principal_fen - r.paid_interest_fen
                      - r.paid_fee_fen for r in _open_rows(session, loan.id))
    penalty = loan.penalty_receivable_fen
    waived_before = account_balance(session, Account.HARDSHIP_WAIVER)
    _approve(session, loan.id, "reage")
    loan = get_loan(session, loan.id)
    assert (loan.dpd, loan.bucket, loan.status, loan.oldest_unpaid_due) == (0, "current", LoanStatus.ACTIVE, None)
    new = installments(session, loan.id)
    assert new[-1].period == 13 and new[-1].due_date == date(2027, 2, 28)  # the arrears, after the last period
    owed_after = sum(r.principal_fen + r.interest_fen + r.fee_fen - r.paid_principal_fen - r.paid_interest_fen
                     - r.paid_fee_fen for r in _open_rows(session, loan.id))
    assert owed_after == owed_before  # moved, not capitalized: no interest added, nothing lost
    assert account_balance(session, Account.HARDSHIP_WAIVER) - waived_before == penalty
    _schedule_sums(session, loan)
    _ok(session)
    with pytest.raises(HardshipRefused):  # at most once a year (and it is current now anyway)
        hardship.propose(session, loan_id=loan.id, kind="reage", requested_by=MAKER)
    # COB across the next due date: current until it falls due.
    _until(session, new[4].due_date)
    assert get_loan(session, loan.id).dpd == 0
    _ok(session)


def test_restructure_into_a_longer_term(session: Session) -> None:
    fresh_book(session)
    loan = _book(session, term=6)
    rows = installments(session, loan.id)
    _until(session, rows[0].due_date + timedelta(days=12))  # period 1 missed, penalty charged
    loan = get_loan(session, loan.id)
    assert loan.status == LoanStatus.OVERDUE
    principal, arrears = loan.principal_outstanding_fen, loan.interest_receivable_fen
    with pytest.raises(InvalidInput):  # not longer than what is left
        hardship.propose(session, loan_id=loan.id, kind="restructure", new_term=6, requested_by=MAKER)
    arr = _approve(session, loan.id, "restructure", new_term=12)
    loan = get_loan(session, loan.id)
    open_rows = _open_rows(session, loan.id)
    assert [r.period for r in open_rows] == list(range(2, 14)) and loan.term == 13
    assert sum(r.principal_fen for r in open_rows) == principal
    assert (loan.dpd, loan.status, loan.penalty_receivable_fen) == (0, LoanStatus.ACTIVE, 0)
    assert arr.apr is not None and rate_as_disclosed(arr.apr) <= get_settings().apr_cap
    # The arrears' interest is in the new installments, spread; the rest is the new schedule's interest.
    assert sum(r.interest_fen for r in open_rows) > arrears
    _ok(session)
    for k, r in enumerate(open_rows[:3]):
        _until(session, r.due_date + timedelta(days=1))
        loan = get_loan(session, loan.id)
        assert loan.dpd == 1 and loan.oldest_unpaid_due == r.due_date
        _pay_due(session, loan.id, f"r-{k}")
        _ok(session)
    assert get_loan(session, loan.id).dpd == 0


def test_restructure_above_the_cap_is_refused(session: Session) -> None:
    fresh_book(session)
    loan = _book(session, code="FEE-060", term=3, fee_rate=Decimal("0.0115"))
    with pytest.raises(AprAboveCap) as err:
        hardship.propose(session, loan_id=loan.id, kind="restructure", new_term=24, requested_by=MAKER)
    assert "超过上限" in err.value.message("zh") and "above the cap" in err.value.message("en")


def test_settlement_paid_closes_the_loan_and_the_waiver_holds_the_discount(session: Session) -> None:
    fresh_book(session)
    loan = _book(session)
    _until(session, installments(session, loan.id)[1].due_date + timedelta(days=20))
    loan = get_loan(session, loan.id)
    owed = owed_fen(loan)
    settled: list[int] = []
    def hook(s: Session, loan_id: int, day: date) -> None:
        settled.append(loan_id)

    hardship.on_settled(hook)
    agreed = owed * 6 // 10
    arr = _approve(session, loan.id, "settlement", settlement_fen=agreed)
    assert arr.status == HardshipStatus.APPROVED and get_loan(session, loan.id).status == LoanStatus.OVERDUE
    apply_repayment(session, loan_id=loan.id, amount_fen=10_000, payment_ref="s-part")  # part of it
    loan = get_loan(session, loan.id)
    assert loan.status == LoanStatus.OVERDUE
    owed_then = owed_fen(loan)
    apply_repayment(session, loan_id=loan.id, amount_fen=agreed - 10_000, payment_ref="s-rest")
    loan = get_loan(session, loan.id)
    assert loan.status == LoanStatus.PAID_OFF and owed_fen(loan) == 0 and loan.credit_balance_fen == 0
    arr = hardship.get_arrangement(session, arr.id)
    assert arr.status == HardshipStatus.SETTLED and arr.discount_fen == owed_then - (agreed - 10_000)
    assert account_balance(session, Account.HARDSHIP_WAIVER, loan_id=loan.id) == arr.discount_fen
    hardship._SETTLED_HOOKS.remove(hook)  # the hook list is process-wide: leave it as found
    assert settled == [loan.id]
    verify_against_ledger(session, loan)
    _ok(session)


def test_settlement_amount_must_be_a_discount(session: Session) -> None:
    fresh_book(session)
    loan = _book(session)
    with pytest.raises(InvalidInput):
        hardship.propose(session, loan_id=loan.id, kind="settlement", settlement_fen=10**9, requested_by=MAKER)


PRODUCTS = [("EI-12", 6, None), ("EI-12", 12, None), ("EP-10", 6, None), ("FEE-060", 3, None),
            ("FEE-060", 12, Decimal("0.009")), ("IF-MERCHANT", 6, None), ("EI-12", 24, Decimal("0.2388"))]


@FEW
@given(
    product=st.sampled_from(PRODUCTS),
    fen=st.integers(min_value=10_000, max_value=3_000_000),
    days=st.integers(min_value=0, max_value=75),
    op=st.sampled_from(["holiday", "restructure", "settlement"]),
    n=st.integers(min_value=1, max_value=48),
    share=st.integers(min_value=1, max_value=99),
)
def test_no_fen_created_or_lost_and_apr_within_the_cap(
    session: Session, product: tuple[str, int, Decimal | None], fen: int, days: int, op: str, n: int, share: int
) -> None:
    conn = session.connection()
    example = conn.begin_nested()
    try:
        fresh_book(session)
        code, term, rate = product
        kw = {"annual_rate": rate} if rate is not None and code.startswith("EI") else {}
        if rate is not None and code.startswith("FEE"):
            kw = {"fee_rate": rate}
        loan = _book(session, ref=f"P{fen}", code=code, fen=fen, term=term, **kw)
        _until(session, START + timedelta(days=days))
        loan = get_loan(session, loan.id)
        principal, owed = loan.principal_outstanding_fen, owed_fen(loan)
        income_before = account_balance(session, Account.INTEREST_INCOME) + account_balance(session, Account.FEE_INCOME)
        try:
            if op == "holiday":
                arr = _approve(session, loan.id, "holiday", months=1 + n % 6)
            elif op == "restructure":
                arr = _approve(session, loan.id, "restructure", new_term=min(60, term + n))
            else:
                agreed = max(1, owed * share // 100)
                if agreed >= owed:
                    return
                arr = _approve(session, loan.id, "settlement", settlement_fen=agreed)
                waived = owed - agreed
                apply_repayment(session, loan_id=loan.id, amount_fen=agreed, payment_ref=f"p-{fen}")
                loan = get_loan(session, loan.id)
                assert loan.status == LoanStatus.PAID_OFF and owed_fen(loan) == 0
                assert account_balance(session, Account.HARDSHIP_WAIVER, loan_id=loan.id) == waived
                _ok(session)
                return
        except (HardshipRefused, AprAboveCap):
            return  # refused as documented (in arrears; above the cap), nothing changed
        loan = get_loan(session, loan.id)
        assert loan.principal_outstanding_fen == principal
        _schedule_sums(session, loan)
        assert arr.apr is not None and rate_as_disclosed(arr.apr) <= get_settings().apr_cap
        rows = _open_rows(session, loan.id)
        # What the shopper will pay = principal + what the books hold back for later accrual + new interest:
        # the interest and fee reversed now come back, nothing vanishes.
        income_after = account_balance(session, Account.INTEREST_INCOME) + account_balance(session, Account.FEE_INCOME)
        reversed_fen = income_before - income_after
        cost = sum(r.interest_fen + r.fee_fen - r.paid_interest_fen - r.paid_fee_fen for r in rows)
        assert cost >= reversed_fen
        _ok(session)
        # Close-of-business across the changed schedule, paying what falls due: the books stay clean.
        for k, r in enumerate(rows[:2]):
            _until(session, r.due_date + timedelta(days=1))
            _pay_due(session, loan.id, f"c-{fen}-{k}")
        assert get_loan(session, loan.id).dpd <= 1
        _ok(session)
    finally:
        example.rollback()
        session.expunge_all()
