"""Collection cases through close-of-business: a case opens at 1 day past due, the queue's order, assignment
by hand and by rule, promises kept and broken (a broken one raises the case), closing on cure and payoff,
the call cap."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.collections import cases
from fenqi.collections.cases import Scope
from fenqi.collections.contacts import log_contact
from fenqi.collections.models_cases import CollectionCase
from fenqi.collections.promises import record_promise
from fenqi.collections.service import CallCapReached
from fenqi.kit.clock import business_date
from fenqi.kit.errors import InvalidInput, NotFound
from fenqi.servicing.service import amount_due, get_loan, installments, next_bill, payoff_quote
from tests.collections.cases_support import book, case_of, pay, staff
from tests.collections.support import FIRST_DUE, close_through
from tests.origination.world import World

LEAD = Scope(0, True)


def test_a_case_opens_at_one_day_past_due_and_follows_the_loan(session: Session, world: World) -> None:
    loan_id = book(session)
    close_through(session, FIRST_DUE - timedelta(days=1))
    assert case_of(session, loan_id) is None  # not yet due
    close_through(session, FIRST_DUE)  # unpaid at the close of its due date: 1 dpd
    case = case_of(session, loan_id)
    assert case is not None
    assert (case.status, case.opened_on, case.dpd, case.bucket) == ("open", FIRST_DUE, 1, "M1")
    close_through(session, FIRST_DUE + timedelta(days=3))
    case = case_of(session, loan_id)
    assert case is not None and case.dpd == 4
    loan = get_loan(session, loan_id)
    # The queue's overdue figure is servicing's own (next_bill), and one case per loan however many closes.
    assert case.overdue_fen == next_bill(loan, installments(session, loan_id)).overdue_fen > 0
    assert case.outstanding_fen == loan.principal_outstanding_fen
    assert len(session.scalars(select(CollectionCase).where(CollectionCase.loan_id == loan_id)).all()) == 1
    assert case.score == 100 - 4 // 2 and isinstance(case.score, int)  # no installment paid yet


def test_queue_order_broken_promises_then_bucket_amount_score(session: Session) -> None:
    def make(loan_id: int, bucket: str, overdue: int, score: int, broken: int = 0) -> int:
        row = CollectionCase(loan_id=loan_id, opened_on=date(2027, 1, 1), dpd=10, bucket=bucket, worst_bucket=bucket,
                             overdue_fen=overdue, outstanding_fen=overdue * 5, score=score, broken_promises=broken)
        session.add(row)
        session.flush()
        return row.id

    m2_big = make(9_000_001, "M2", 900_00, 90)
    m1_small = make(9_000_002, "M1", 100_00, 90)
    m1_big_low = make(9_000_003, "M1", 500_00, 40)
    m1_big_high = make(9_000_004, "M1", 500_00, 80)
    m3_broken = make(9_000_005, "M3", 50_00, 10, broken=1)
    order = [c.id for c in cases.queue(session, LEAD) if c.loan_id >= 9_000_001]
    assert order == [m3_broken, m1_big_high, m1_big_low, m1_small, m2_big]
    assert [c.id for c in cases.queue(session, LEAD, bucket="M1") if c.loan_id >= 9_000_001] == [
        m1_big_high, m1_big_low, m1_small]
    with pytest.raises(InvalidInput):
        cases.queue(session, LEAD, bucket="M9")


def test_assignment_by_hand_and_round_robin_per_bucket(session: Session, world: World) -> None:
    loans = [book(session, 300_000 + i * 10_000) for i in range(5)]
    close_through(session, FIRST_DUE)
    a, b = staff(session, name="甲"), staff(session, name="乙")
    mine = [case_of(session, i) for i in loans]
    assert all(c is not None and c.assigned_user_id is None for c in mine)
    first = mine[0]
    assert first is not None
    cases.assign(session, first.id, a.user_id, {a.user_id: "甲", b.user_id: "乙"})
    with pytest.raises(InvalidInput):
        cases.assign(session, first.id, 123456789, {a.user_id: "甲"})  # not a collector
    assigned = cases.assign_round_robin(session, [a.user_id, b.user_id])
    assert assigned >= 4
    held = {u: [c.id for c in cases.queue(session, Scope(u, False))] for u in (a.user_id, b.user_id)}
    ours = {c.id for c in mine if c is not None}
    counts = sorted(len(set(v) & ours) for v in held.values())
    assert counts == [2, 3]  # evened out: 甲 already held one
    # A collector sees only their own cases; another's answers 404 as if it did not exist.
    other = next(i for i in held[b.user_id] if i in ours)
    with pytest.raises(NotFound):
        cases.get_case(session, other, Scope(a.user_id, False))
    assert cases.get_case(session, other, Scope(b.user_id, False)).id == other


def test_a_broken_promise_raises_the_case(session: Session, world: World) -> None:
    kept_loan, broken_loan = book(session, 800_000), book(session, 200_000)
    close_through(session, FIRST_DUE + timedelta(days=1))
    today = business_date(session)
    smaller = case_of(session, broken_loan)
    assert smaller is not None
    assert [c.loan_id for c in cases.queue(session, LEAD) if c.loan_id in (kept_loan, broken_loan)] == [
        kept_loan, broken_loan]  # the larger amount first
    collector = staff(session)
    promise = record_promise(session, smaller, amount="100.00", due_on=today + timedelta(days=1), today=today,
                             user_id=collector.user_id)
    close_through(session, today)  # not yet due: still pending
    session.refresh(promise)
    assert promise.status == "pending"
    close_through(session, today + timedelta(days=1))  # its date closes unpaid
    session.refresh(promise)
    assert (promise.status, promise.decided_on, promise.paid_fen) == ("broken", today + timedelta(days=1), 0)
    raised = case_of(session, broken_loan)
    assert raised is not None and raised.broken_promises == 1
    assert [c.loan_id for c in cases.queue(session, LEAD) if c.loan_id in (kept_loan, broken_loan)] == [
        broken_loan, kept_loan]
    before = raised.score
    close_through(session, today + timedelta(days=2))
    after = case_of(session, broken_loan)
    assert after is not None and after.score <= before - 15  # the score counts it too


def test_a_kept_promise(session: Session, world: World) -> None:
    loan_id = book(session)
    close_through(session, FIRST_DUE + timedelta(days=1))
    today = business_date(session)
    case = case_of(session, loan_id)
    assert case is not None
    promise = record_promise(session, case, amount="200.00", due_on=today + timedelta(days=3), today=today,
                             user_id=staff(session).user_id)
    pay(session, loan_id, 200_00)  # part of the arrears: enough for the promise, not to cure
    close_through(session, today)
    session.refresh(promise)
    assert (promise.status, promise.paid_fen, promise.decided_on) == ("kept", 200_00, today)
    still = case_of(session, loan_id)
    assert still is not None and still.status == "open" and still.broken_promises == 0
    with pytest.raises(InvalidInput):  # a promise beyond 30 days is a plan, not a promise
        record_promise(session, still, amount="1.00", due_on=today + timedelta(days=31), today=today, user_id=1)


def test_the_case_closes_on_cure(session: Session, world: World) -> None:
    loan_id = book(session)
    close_through(session, FIRST_DUE + timedelta(days=2))
    pay(session, loan_id, amount_due(session, loan_id))
    case = case_of(session, loan_id)  # at once, not at the night's close: the collector stops calling
    assert case is not None
    assert (case.status, case.close_reason, case.closed_on) == ("closed", "cured", FIRST_DUE + timedelta(days=3))
    close_through(session, business_date(session))
    assert case_of(session, loan_id) == case
    assert get_loan(session, loan_id).dpd == 0
    # Late again next month: a new case, the closed one stays as history.
    close_through(session, FIRST_DUE + timedelta(days=35))
    again = case_of(session, loan_id)
    assert again is not None and again.id != case.id and again.status == "open"


def test_the_case_closes_on_payoff(session: Session, world: World) -> None:
    loan_id = book(session)
    close_through(session, FIRST_DUE + timedelta(days=2))
    pay(session, loan_id, payoff_quote(session, loan_id).total, purpose="payoff")
    assert get_loan(session, loan_id).status == "paid_off"
    case = case_of(session, loan_id)
    assert case is not None and (case.status, case.close_reason) == ("closed", "paid_off")


@pytest.mark.usefixtures("daytime")
def test_the_seventh_call_of_the_day_is_refused(session: Session, world: World) -> None:
    loan_id = book(session)
    who = staff(session)
    for _ in range(6):
        log_contact(session, who, loan_id, kind="call", outcome="no_answer")
    with pytest.raises(CallCapReached) as refused:
        log_contact(session, who, loan_id, kind="call", outcome="no_answer")
    assert "6" in refused.value.message("zh") and refused.value.status == 409
    log_contact(session, who, loan_id, kind="visit", outcome="not_home")  # visits and notes are not calls
    with pytest.raises(InvalidInput):
        log_contact(session, who, loan_id, kind="call", outcome="")  # a call needs its outcome
