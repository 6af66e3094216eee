"""The contact rules, enforced in code: quiet hours 22:00–08:00 in the shopper's zone (a notice due at
23:00 goes out at 08:00), a per-loan daily cap on messages and on call attempts (the seventh call of
the day is refused), opt-outs honoured for marketing and courtesy reminders but not for legally
required notices, and only the borrower's own verified number."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.collections.service import (
    CallCapReached,
    QuietHours,
    ThirdPartyContact,
    UnknownNoticeKind,
    dispatch,
    queue_notice,
    record_call_attempt,
    set_preferences,
)
from fenqi.identity.models import Notification
from fenqi.identity.outbox import deliver_one
from tests.collections.reminders_support import borrower, loan_for, local


def test_a_notice_due_at_23_00_goes_out_at_08_00(session: Session) -> None:
    loan_id = loan_for(session, borrower(session))
    r = queue_notice(session, loan_id, "lock_warning", {"lock_date": "3月8日"})
    report = dispatch(session, now=local(2026, 3, 1, 23, 0))
    assert report.queued == 0 and report.held == {"quiet_hours": 1}
    assert r.status == "scheduled" and r.not_before == local(2026, 3, 2, 8, 0)
    assert dispatch(session, now=local(2026, 3, 2, 7, 59)).queued == 0
    assert dispatch(session, now=local(2026, 3, 2, 8, 0)).queued == 1
    assert r.status == "queued" and r.notification_id is not None
    message = session.get(Notification, r.notification_id)
    assert message is not None and message.zone == "Asia/Shanghai"
    assert "3月8日" in message.body and "紧急电话" in message.body and f"/shop/loans/{loan_id}" in message.body
    # The outbox too keeps quiet hours: a retry that falls at 22:30 waits until 08:00.
    assert deliver_one(session, message.id, lambda *a: None, now=local(2026, 3, 2, 22, 30)) == "waiting"
    assert message.next_attempt_at == local(2026, 3, 3, 8, 0)
    assert deliver_one(session, message.id, lambda *a: None, now=local(2026, 3, 3, 8, 0)) == "sent"


def test_quiet_hours_follow_the_shoppers_zone(session: Session) -> None:
    customer = borrower(session)
    loan_id = loan_for(session, customer)
    set_preferences(session, customer, zone="Asia/Urumqi")  # UTC+6: 23:00 in Shanghai is 21:00 there
    queue_notice(session, loan_id, "due_today")
    assert dispatch(session, now=local(2026, 3, 1, 23, 0)).queued == 1


def test_daily_message_cap_holds_the_seventh_until_tomorrow(session: Session) -> None:
    loan_id = loan_for(session, borrower(session))
    kinds = ["pre_due_3", "pre_due_1", "due_today", "overdue_1", "overdue_3", "overdue_7", "lock_warning"]
    rows = [queue_notice(session, loan_id, k) for k in kinds]
    report = dispatch(session, now=local(2026, 3, 1, 10, 0))
    assert report.queued == 6 and report.held == {"daily_cap": 1}
    held = rows[-1]
    assert held.status == "scheduled" and held.reason == "daily_cap" and held.not_before == local(2026, 3, 2, 8, 0)
    assert dispatch(session, now=local(2026, 3, 1, 21, 0)).queued == 0
    assert dispatch(session, now=local(2026, 3, 2, 8, 0)).queued == 1


def test_the_seventh_call_attempt_of_the_day_is_refused(session: Session) -> None:
    loan_id = loan_for(session, borrower(session))
    at = local(2026, 3, 5, 10, 0)
    assert [record_call_attempt(session, loan_id, now=at + timedelta(minutes=i)) for i in range(6)] == [1, 2, 3, 4,
                                                                                                      5, 6]
    with pytest.raises(CallCapReached) as refused:
        record_call_attempt(session, loan_id, now=at + timedelta(minutes=10))
    assert "上限" in refused.value.message("zh") and refused.value.status == 409
    assert record_call_attempt(session, loan_id, now=local(2026, 3, 6, 9, 0)) == 1  # a new day
    with pytest.raises(QuietHours):
        record_call_attempt(session, loan_id, now=local(2026, 3, 6, 22, 0))
    with pytest.raises(QuietHours):
        record_call_attempt(session, loan_id, now=local(2026, 3, 7, 7, 59))
    with pytest.raises(ThirdPartyContact):
        record_call_attempt(session, loan_id, party="emergency_contact", now=local(2026, 3, 6, 10, 0))


def test_opt_out_honoured_for_marketing_and_reminders_not_for_legal_notices(session: Session) -> None:
    customer = borrower(session)
    loan_id = loan_for(session, customer)
    set_preferences(session, customer, marketing_opt_out=True, reminder_opt_out=True)
    offer = queue_notice(session, loan_id, "upgrade_offer")
    courtesy = queue_notice(session, loan_id, "pre_due_3")
    legal = [queue_notice(session, loan_id, k) for k in ("due_today", "overdue_1", "lock_warning")]
    report = dispatch(session, now=local(2026, 3, 1, 10, 0))
    assert report.suppressed == {"opted_out": 2} and report.queued == 3
    assert (offer.status, offer.reason) == ("suppressed", "opted_out") and courtesy.status == "suppressed"
    assert all(r.status == "queued" for r in legal)
    set_preferences(session, customer, marketing_opt_out=False)
    offer2 = queue_notice(session, loan_id, "upgrade_offer", for_date=offer.for_date - timedelta(days=1))
    dispatch(session, now=local(2026, 3, 1, 10, 5))
    assert offer2.status == "queued"


def test_only_the_borrowers_own_verified_number(session: Session) -> None:
    unverified = borrower(session, "13700000001", signed_in=False)
    loan_id = loan_for(session, unverified)
    r = queue_notice(session, loan_id, "due_today")
    assert dispatch(session, now=local(2026, 3, 1, 10, 0)).suppressed == {"no_verified_phone": 1}
    assert r.reason == "no_verified_phone" and r.notification_id is None
    assert session.scalar(select(Notification).where(Notification.template == "collections.due_today")) is None

    owner = borrower(session, "13700000002")
    other = loan_for(session, owner, ref="rem-2")
    r2 = queue_notice(session, other, "due_today")
    dispatch(session, now=local(2026, 3, 1, 10, 0))
    message = session.get(Notification, r2.notification_id)
    assert message is not None and message.to_masked.endswith("0002")


def test_english_template_and_unknown_kind(session: Session) -> None:
    customer = borrower(session)
    loan_id = loan_for(session, customer)
    set_preferences(session, customer, lang="en")
    r = queue_notice(session, loan_id, "pre_due_3")
    dispatch(session, now=local(2026, 3, 1, 10, 0))
    message = session.get(Notification, r.notification_id)
    assert message is not None and message.body.startswith("Fenqi: 2") and "01 Apr 2026" in message.body
    assert message.sms_template == "SMS_FQ_PRE_DUE_3" and '"amount"' in (message.params or "")
    with pytest.raises(UnknownNoticeKind):
        queue_notice(session, loan_id, "birthday")


def test_a_notice_not_sent_within_three_days_is_dropped(session: Session) -> None:
    loan_id = loan_for(session, borrower(session))
    old = queue_notice(session, loan_id, "due_today", for_date=date(2026, 2, 25))
    fresh = queue_notice(session, loan_id, "pre_due_3", for_date=date(2026, 2, 26))
    report = dispatch(session, now=local(2026, 3, 1, 10, 0))
    assert report.suppressed == {"stale": 1} and report.queued == 1
    assert (old.status, old.reason, fresh.status) == ("suppressed", "stale", "queued")
