"""The collectors' pages and API over HTTP: the queue, a case's workspace (reveal the phone — audited —,
log a call, record a promise, send the pay link), the call cap on the page, who may see which case, the
lead's pages, and the shopper's overdue page with its hardship request."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.collections.models_cases import HardshipRequest, LoanNote, PromiseToPay
from fenqi.identity.models import AuditEntry, Notification
from fenqi.identity.service import create_user, shopper_for_phone
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from fenqi.kit.clock import business_date
from fenqi.servicing.service import amount_due
from tests.collections.cases_support import case_of
from tests.collections.support import FIRST_DUE, close_through, signed_in, sold
from tests.origination.world import World
from tests.web_console.conftest import csrf_of

pytestmark = pytest.mark.usefixtures("daytime")  # the contact rules' clock at 10:00 Beijing time
ENGLISH_CODES = ("no_answer", "answered", "collection_lead", "\nM1\n", "pending", "broken", "\nopen\n", "UTC")


def _as(client: TestClient, session: Session, role: str, name: str = "") -> int:
    user = create_user(session, role=role, display_name=name or f"页面{role}")
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, start_session(session, user))
    return user.id


def _post(client: TestClient, page: str, action: str, data: dict[str, str]) -> object:
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def _overdue_case(session: Session, world: World, collector_id: int | None) -> tuple[int, int]:
    app = sold(session, world)
    close_through(session, FIRST_DUE + timedelta(days=2))
    case = case_of(session, app.loan_id)
    assert case is not None
    case.assigned_user_id = collector_id
    signed_in(session, app.loan_id)
    return case.id, app.loan_id


def test_a_collector_works_a_case(client: TestClient, session: Session, world: World) -> None:
    me = _as(client, session, "collector", "钱催收")
    case_id, loan_id = _overdue_case(session, world, me)
    queue = client.get("/ops/cases")
    assert queue.status_code == 200 and f'href="/ops/cases/{case_id}"' in queue.text
    assert "138****5678" in queue.text and "13812345678" not in queue.text
    page = client.get(f"/ops/cases/{case_id}").text
    owed = amount_due(session, loan_id)
    assert f"{owed // 100:,}.{owed % 100:02d}" in page and "逾期 3 天" in page
    shown = re.sub(r"<[^>]+>", "\n", page)  # what a person reads (option values and ids are not shown)
    assert not [code for code in ENGLISH_CODES if code in shown]

    revealed = _post(client, f"/ops/cases/{case_id}", f"/ops/cases/{case_id}/reveal-phone", {"reason": "电话联系"})
    assert revealed.status_code == 200 and "13812345678" in revealed.text  # type: ignore[attr-defined]
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "phone.revealed"))
    assert audit is not None and audit.actor_user_id == me and audit.subject == f"loan:{loan_id}"
    assert "13812345678" not in audit.detail
    refused = _post(client, f"/ops/cases/{case_id}", f"/ops/cases/{case_id}/reveal-phone", {"reason": " "})
    assert refused.status_code == 400  # type: ignore[attr-defined]

    called = _post(client, f"/ops/cases/{case_id}", f"/ops/cases/{case_id}/contacts",
                   {"kind": "call", "outcome": "promised", "body": "答应周五还"})
    assert called.status_code == 303  # type: ignore[attr-defined]
    today = business_date(session)
    promised = _post(client, f"/ops/cases/{case_id}", f"/ops/cases/{case_id}/promises",
                     {"amount": "300.00", "due_on": (today + timedelta(days=2)).isoformat()})
    assert promised.status_code == 303  # type: ignore[attr-defined]
    promise = session.scalar(select(PromiseToPay).where(PromiseToPay.case_id == case_id))
    assert promise is not None and (promise.amount_fen, promise.status, promise.user_id) == (300_00, "pending", me)
    bad = _post(client, f"/ops/cases/{case_id}", f"/ops/cases/{case_id}/promises",
                {"amount": "abc", "due_on": today.isoformat()})
    assert bad.status_code == 400 and "金额" in bad.text  # type: ignore[attr-defined]
    again = _post(client, f"/ops/cases/{case_id}", f"/ops/cases/{case_id}/promises",
                  {"amount": "300.00", "due_on": (today + timedelta(days=2)).isoformat()})  # a double submit
    assert again.status_code == 400 and "已有一笔待兑现的承诺还款（¥300.00" in again.text  # type: ignore[attr-defined]
    assert len(session.scalars(select(PromiseToPay).where(PromiseToPay.case_id == case_id)).all()) == 1

    sent = _post(client, f"/ops/cases/{case_id}", f"/ops/cases/{case_id}/pay-link", {})
    assert sent.status_code == 303, re.findall(r"id=\"error\">([^<]*)", sent.text)  # type: ignore[attr-defined]
    sms = session.scalar(select(Notification).where(Notification.template == "collections.pay_link"))
    assert sms is not None and f"/shop/loans/{loan_id}/overdue" in sms.body and sms.to_masked == "138****5678"
    kinds = [n.kind for n in session.scalars(select(LoanNote).where(LoanNote.loan_id == loan_id))]
    assert sorted(kinds) == ["call", "sms"]
    page = client.get(f"/ops/cases/{case_id}").text
    log = page.split('id="contact-log"', 1)[1].split("</table>", 1)[0]
    assert "电话" in log and "承诺还款" in log and "短信" in log and "答应周五还" in log
    assert "待兑现" in page.split('id="promises"', 1)[1].split("</table>", 1)[0]

    for _ in range(5):  # the cap: 6 call attempts a day, the first was logged above
        assert _post(client, f"/ops/cases/{case_id}", f"/ops/cases/{case_id}/contacts",
                     {"kind": "call", "outcome": "no_answer"}).status_code == 303  # type: ignore[attr-defined]
    seventh = _post(client, f"/ops/cases/{case_id}", f"/ops/cases/{case_id}/contacts",
                    {"kind": "call", "outcome": "no_answer"})
    assert seventh.status_code == 409 and "上限" in seventh.text  # type: ignore[attr-defined]

    mine = client.get("/ops/collections/performance").text
    assert "钱催收" in mine and "¥" in mine


def test_who_may_see_a_case(client: TestClient, session: Session, world: World,
                            auth_headers: Callable[..., dict[str, str]]) -> None:
    owner = create_user(session, role="collector", display_name="甲").id
    case_id, _ = _overdue_case(session, world, owner)
    _as(client, session, "collector", "乙")
    assert client.get(f"/ops/cases/{case_id}").status_code == 404  # another collector's case
    assert f"/ops/cases/{case_id}" not in client.get("/ops/cases").text
    assert _post(client, "/ops/cases", f"/ops/cases/{case_id}/pay-link", {}).status_code == 404  # type: ignore[attr-defined]
    api = auth_headers("collector")
    assert client.get(f"/api/v1/collections/cases/{case_id}", headers=api).status_code == 404
    assert all(c["id"] != case_id for c in client.get("/api/v1/collections/cases", headers=api).json()["cases"])
    for role in ("shopper", "risk_officer", "clerk"):
        _as(client, session, role)
        assert client.get(f"/ops/cases/{case_id}").status_code == 403
        assert client.get("/ops/cases").status_code == 403
        client.cookies.clear()
        assert client.get(f"/api/v1/collections/cases/{case_id}",
                          headers=auth_headers(role, world.merchant_id if role == "clerk" else None)).status_code == 403
    client.cookies.clear()
    assert client.get("/api/v1/collections/cases").status_code == 401
    lead = auth_headers("collection_lead")
    detail = client.get(f"/api/v1/collections/cases/{case_id}", headers=lead)
    assert detail.status_code == 200 and detail.json()["case"]["assigned_user_id"] == owner


def test_the_lead_assigns_and_oversees(client: TestClient, session: Session, world: World) -> None:
    worker = create_user(session, role="collector", display_name="丙催收").id
    case_id, _ = _overdue_case(session, world, None)
    _as(client, session, "collection_lead", "吴主管")
    assert "未分配" in client.get("/ops/cases?view=unassigned").text
    assert _post(client, "/ops/cases", "/ops/cases/assign-auto", {"bucket": ""}).status_code == 303  # type: ignore[attr-defined]
    case = case_of(session, _)
    assert case is not None and case.assigned_user_id is not None
    moved = _post(client, f"/ops/cases/{case_id}", f"/ops/cases/{case_id}/assign", {"collector": str(worker)})
    assert moved.status_code == 303  # type: ignore[attr-defined]
    case = case_of(session, _)
    assert case is not None and case.assigned_user_id == worker
    overview = client.get("/ops/collections/supervisor")
    assert overview.status_code == 200 and "滚动率" in overview.text and "丙催收" in overview.text
    assert "M1（逾期1–30天）" in overview.text
    _as(client, session, "collector")
    assert client.get("/ops/collections/supervisor").status_code == 403
    assert _post(client, "/ops/cases", "/ops/cases/assign-auto", {}).status_code == 403  # type: ignore[attr-defined]


def test_the_shoppers_overdue_page_and_hardship_request(client: TestClient, session: Session, world: World) -> None:
    app = sold(session, world)
    close_through(session, FIRST_DUE + timedelta(days=2))
    shopper = shopper_for_phone(session, "13812345678")  # the till sale may have made the account
    app.shopper_user_id = shopper.id
    session.flush()
    client.cookies.set(SESSION_COOKIE, start_session(session, shopper))
    page = client.get(f"/shop/loans/{app.loan_id}/overdue")
    assert page.status_code == 200
    owed = amount_due(session, app.loan_id)
    assert f"{owed // 100:,}.{owed % 100:02d}" in page.text
    assert "逾期 3 天" in page.text and "立即还款" in page.text and "纾困" in page.text
    assert f'/shop/loans/{app.loan_id}/overdue' in client.get(f"/shop/loans/{app.loan_id}").text
    token = csrf_of(page.text)
    empty = client.post(f"/shop/loans/{app.loan_id}/hardship", data={"kind": "holiday", "reason": "",
                                                                     "csrf_token": token}, follow_redirects=False)
    assert empty.status_code == 400 and "原因" in empty.text
    done = client.post(f"/shop/loans/{app.loan_id}/hardship",
                       data={"kind": "holiday", "reason": "失业两个月，下月起有新工作", "csrf_token": token},
                       follow_redirects=False)
    assert done.status_code == 303
    row = session.scalar(select(HardshipRequest).where(HardshipRequest.loan_id == app.loan_id))
    assert row is not None and (row.status, row.kind, row.user_id) == ("requested", "holiday", shopper.id)
    assert "已收到您的申请" in client.get(f"/shop/loans/{app.loan_id}/overdue?done=1").text
    other = create_user(session, role="shopper", display_name="别人", phone="13912345678")
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, start_session(session, other))
    assert client.get(f"/shop/loans/{app.loan_id}/overdue").status_code == 403


def test_staff_notes_on_the_loan_page_are_the_contact_log(client: TestClient, session: Session, world: World) -> None:
    app = sold(session, world)
    _as(client, session, "risk_officer", "赵风控")
    r = _post(client, f"/ops/loans/{app.loan_id}", f"/ops/loans/{app.loan_id}/notes", {"body": "核实了工作单位"})
    assert r.status_code == 303  # type: ignore[attr-defined]
    note = session.scalar(select(LoanNote).where(LoanNote.loan_id == app.loan_id))
    assert note is not None and (note.kind, note.body, note.author_name) == ("note", "核实了工作单位", "赵风控")
    assert "核实了工作单位" in client.get(f"/ops/loans/{app.loan_id}").text


def test_the_lead_reads_loans_and_changes_nothing_there(client: TestClient, session: Session, world: World) -> None:
    """Least privilege: the collections lead reads the loan pages a case leads to (search, detail, the
    overdue list, the phone lock) and gets 403 on every change there and on other desks' pages."""
    case_id, loan_id = _overdue_case(session, world, None)
    _as(client, session, "collection_lead", "吴主管")
    assert f'href="/ops/loans/{loan_id}"' in client.get(f"/ops/cases/{case_id}").text
    for page in ("/ops/loans", f"/ops/loans/{loan_id}", f"/ops/loans/{loan_id}/device", "/ops/overdue"):
        assert client.get(page).status_code == 200, page
    token = csrf_of(client.get("/ops/loans").text)
    found = client.post("/ops/loans", data={"q": str(loan_id), "csrf_token": token})
    assert found.status_code == 200 and f'href="/ops/loans/{loan_id}"' in found.text
    detail = client.get(f"/ops/loans/{loan_id}").text
    for action in ("notes", "reveal", "hardship"):
        assert f'action="/ops/loans/{loan_id}/{action}"' not in detail  # no form the lead may not send
        assert client.post(f"/ops/loans/{loan_id}/{action}", data={"body": "x", "reason": "x", "kind": "holiday",
                                                                   "csrf_token": token}).status_code == 403
    for page in ("/ops/reviews", "/ops/reconciliation", "/ops/audit"):
        assert client.get(page).status_code == 403, page
