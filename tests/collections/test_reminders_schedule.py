"""Close-of-business schedules a loan's reminders and notices: before due (D−3, D−1), on the due date,
overdue on days 1, 3, 7 and then weekly, through every bucket until write-off; a payoff confirmation;
each at most once per (loan, kind, day)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.collections.models_reminders import Reminder
from fenqi.collections.reminders_cob import schedule_chunk
from fenqi.servicing.service import get_loan, installments
from tests.collections.reminders_support import borrower, loan_for, notices
from tests.collections.support import close_through


def _expected(dues: list[date], written_off: date) -> list[tuple[str, date]]:
    """What the rules say, written out independently: T = the date the notice speaks for."""
    first = dues[0]
    out: list[tuple[str, date]] = []
    for due in dues:
        if due > written_off:
            break
        for n, kind in ((3, "pre_due_3"), (1, "pre_due_1"), (0, "due_today")):
            if due - timedelta(days=n) <= written_off:
                out.append((kind, due - timedelta(days=n)))
    # Never paid: days past due count from the first due date; notices on 1, 3, 7, 14, 21, …
    dpd = 1
    while first + timedelta(days=dpd) <= written_off:
        if dpd in (1, 3, 7):
            out.append((f"overdue_{dpd}", first + timedelta(days=dpd)))
        elif dpd > 7 and dpd % 7 == 0:
            out.append(("overdue_weekly", first + timedelta(days=dpd)))
        dpd += 1
    return sorted(out, key=lambda kd: (kd[1], kd[0]))


def test_a_loan_never_paid_gets_every_notice_through_every_bucket(session: Session) -> None:
    loan_id = loan_for(session, borrower(session))
    dues = [r.due_date for r in installments(session, loan_id)]
    assert dues[:2] == [date(2026, 4, 1), date(2026, 5, 1)]

    close_through(session, date(2026, 10, 5))
    loan = get_loan(session, loan_id)
    assert loan.status == "written_off" and loan.closed_on is not None
    # The last notice is for the day the close before the write-off prepared (dpd 179 → T has dpd 179).
    got = notices(session, loan_id)
    written_off_t = loan.closed_on  # closed on D: its close prepared nothing for D + 1
    assert got == _expected(dues, written_off_t)
    assert got[:6] == [("pre_due_3", date(2026, 3, 29)), ("pre_due_1", date(2026, 3, 31)),
                       ("due_today", date(2026, 4, 1)), ("overdue_1", date(2026, 4, 2)),
                       ("overdue_3", date(2026, 4, 4)), ("overdue_7", date(2026, 4, 8))]
    rows = session.scalars(select(Reminder).where(Reminder.loan_id == loan_id)).all()
    overdue = [r for r in rows if r.kind.startswith("overdue")]
    buckets = {("M1" if r.dpd <= 30 else "M2" if r.dpd <= 60 else "M3" if r.dpd <= 90 else "M4+") for r in overdue}
    assert buckets == {"M1", "M2", "M3", "M4+"}
    assert max(r.dpd for r in overdue) == 175  # the last weekly notice before the write-off at 180
    # Amounts: an installment before due; the arrears (growing with penalties) once overdue.
    first = min(rows, key=lambda r: r.for_date)
    assert first.amount_fen == installments(session, loan_id)[0].principal_fen + installments(session, loan_id)[
        0].interest_fen + installments(session, loan_id)[0].fee_fen
    o1 = next(r for r in rows if r.kind == "overdue_1")
    o7 = next(r for r in rows if r.kind == "overdue_7")
    assert 0 < o1.amount_fen < o7.amount_fen


def test_scheduling_twice_adds_nothing(session: Session) -> None:
    loan_id = loan_for(session, borrower(session))
    close_through(session, date(2026, 4, 2))
    before = notices(session, loan_id)
    assert ("overdue_1", date(2026, 4, 3)) not in before and ("overdue_1", date(2026, 4, 2)) in before
    # The same chunk step again (a retried chunk): the unique key keeps one row per (loan, kind, day).
    assert schedule_chunk(session, date(2026, 4, 1), loan_id, loan_id) == 0
    assert notices(session, loan_id) == before


def test_payoff_confirmation_for_a_loan_paid_off_that_day(session: Session) -> None:
    from fenqi.servicing.service import apply_repayment, payoff_quote

    loan_id = loan_for(session, borrower(session))
    close_through(session, date(2026, 3, 10))
    quote = payoff_quote(session, loan_id)
    apply_repayment(session, loan_id=loan_id, amount_fen=quote.total, payment_ref="payoff-1", channel="alipay",
                    purpose="payoff")
    assert get_loan(session, loan_id).status == "paid_off"
    close_through(session, date(2026, 3, 11))
    assert notices(session, loan_id) == [("payoff", date(2026, 3, 11))]
