"""The case workspace contacts the shopper only through the reminders' rules: the one-click pay link is a
`pay_link` notice (quiet hours 22:00–08:00 Beijing time → sent at 08:00; the day's message cap; opt-outs)
and a logged call is a `record_call_attempt` (the day's cap on call attempts), each refusal shown on the
page in Chinese."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.collections.models_cases import LoanNote
from fenqi.collections.models_reminders import Reminder
from fenqi.collections.service import dispatch, queue_notice, set_preferences
from fenqi.identity.models import Notification
from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from fenqi.servicing.service import get_loan
from tests.collections.cases_support import case_of
from tests.collections.reminders_support import local
from tests.collections.support import FIRST_DUE, close_through, signed_in, sold
from tests.origination.world import World
from tests.web_console.conftest import csrf_of


def _working_a_case(client: TestClient, session: Session, world: World) -> tuple[int, int]:
    """A collector signed in, holding the case of a loan 3 days past due whose borrower signed in."""
    app = sold(session, world)
    close_through(session, FIRST_DUE + timedelta(days=2))
    case = case_of(session, app.loan_id)
    assert case is not None
    collector = create_user(session, role="collector", display_name="规则催收")
    case.assigned_user_id = collector.id
    signed_in(session, app.loan_id)
    client.cookies.set(SESSION_COOKIE, start_session(session, collector))
    return case.id, app.loan_id


def _post(client: TestClient, case_id: int, action: str, data: dict[str, str] | None = None) -> object:
    token = csrf_of(client.get(f"/ops/cases/{case_id}").text)
    return client.post(f"/ops/cases/{case_id}/{action}", data={**(data or {}), "csrf_token": token},
                       follow_redirects=False)


def _error(html: str) -> str:
    found = re.search(r'id="error">([^<]*)<', html)
    return found.group(1) if found else ""


def _clock(monkeypatch: pytest.MonkeyPatch, at: object) -> None:
    monkeypatch.setattr("fenqi.collections.reminders.utcnow", lambda: at)


def test_a_pay_link_sent_at_23_00_goes_out_at_08_00(client: TestClient, session: Session, world: World,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    case_id, loan_id = _working_a_case(client, session, world)
    _clock(monkeypatch, local(2026, 12, 31, 23, 0))
    sent = _post(client, case_id, "pay-link")
    assert sent.status_code == 303 and sent.headers["location"].endswith("?n=sms-held#contacts")  # type: ignore[attr-defined]
    page = client.get(f"/ops/cases/{case_id}?n=sms-held").text
    assert "将于 08:00 发送" in page
    notice = session.scalar(select(Reminder).where(Reminder.loan_id == loan_id, Reminder.kind == "pay_link"))
    assert notice is not None and (notice.status, notice.reason) == ("scheduled", "quiet_hours")
    assert notice.not_before == local(2027, 1, 1, 8, 0)
    assert session.scalar(select(Notification).where(Notification.template == "collections.pay_link")) is None
    assert session.scalar(select(LoanNote.kind).where(LoanNote.loan_id == loan_id)) == "sms"  # logged as sent

    assert dispatch(session, now=local(2027, 1, 1, 7, 59)).queued == 0  # the close's notices wait too
    assert dispatch(session, now=local(2027, 1, 1, 8, 0)).queued >= 1
    assert notice.status == "queued" and notice.queued_at == local(2027, 1, 1, 8, 0)
    sms = session.get(Notification, notice.notification_id)
    assert sms is not None and sms.template == "collections.pay_link" and sms.to_masked == "138****5678"
    assert f"/shop/loans/{loan_id}/overdue" in sms.body and "逾期 3 天" in sms.body
    # Once it went out, a second pay link the same day is refused rather than sent twice.
    _clock(monkeypatch, local(2027, 1, 1, 9, 0))
    again = _post(client, case_id, "pay-link")
    assert again.status_code == 409 and "今天已向借款人发送过该短信" in _error(again.text)  # type: ignore[attr-defined]


def test_the_seventh_message_and_call_of_the_day_are_refused_on_the_page(
        client: TestClient, session: Session, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id, loan_id = _working_a_case(client, session, world)
    dispatch(session, now=local(2026, 12, 30, 9, 0))  # the close's notices go out the day before
    for kind in ("pre_due_3", "overdue_1", "overdue_7", "overdue_weekly", "lock_warning", "due_today"):
        queue_notice(session, loan_id, kind)
    assert dispatch(session, now=local(2026, 12, 31, 9, 0)).queued == 6  # the day's six messages

    _clock(monkeypatch, local(2026, 12, 31, 10, 0))
    seventh = _post(client, case_id, "pay-link")
    assert seventh.status_code == 409  # type: ignore[attr-defined]
    assert _error(seventh.text) == "该笔借款今日短信已达上限（6 条），请明天再发送"  # type: ignore[attr-defined]
    assert session.scalar(select(Reminder).where(Reminder.loan_id == loan_id, Reminder.kind == "pay_link")) is None
    assert session.scalar(select(LoanNote).where(LoanNote.loan_id == loan_id)) is None  # nothing logged

    for _ in range(6):
        assert _post(client, case_id, "contacts", {"kind": "call", "outcome": "no_answer"}).status_code == 303  # type: ignore[attr-defined]
    call = _post(client, case_id, "contacts", {"kind": "call", "outcome": "no_answer"})
    assert call.status_code == 409  # type: ignore[attr-defined]
    assert _error(call.text) == "该笔借款今日拨打次数已达上限（6 次），请明天再联系"  # type: ignore[attr-defined]
    _clock(monkeypatch, local(2026, 12, 31, 22, 30))
    late = _post(client, case_id, "contacts", {"kind": "call", "outcome": "no_answer"})
    assert late.status_code == 409 and "22:00–08:00" in _error(late.text)  # type: ignore[attr-defined]

    # The next morning the caps start again; a borrower who opted out of reminders gets no pay link.
    _clock(monkeypatch, local(2027, 1, 1, 9, 0))
    assert _post(client, case_id, "contacts", {"kind": "call", "outcome": "answered"}).status_code == 303  # type: ignore[attr-defined]
    customer = get_loan(session, loan_id).customer_id
    assert customer is not None
    set_preferences(session, customer, reminder_opt_out=True)
    opted = _post(client, case_id, "pay-link")
    assert opted.status_code == 409 and _error(opted.text) == "短信未发送：借款人已退订提醒短信"  # type: ignore[attr-defined]
