"""Hardship (纾困) over HTTP: the staff API (roles, maker-checker, response models) and the ops console
pages (zh-CN first), through the real ASGI app on the test's transaction."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from fenqi.servicing.service import book_loan, get_loan
from tests.servicing.support import fresh_book
from tests.web_console.conftest import csrf_of

Headers = Callable[..., dict[str, str]]


def _loan(session: Session) -> int:
    fresh_book(session)
    return book_loan(session, external_ref="HA1", product_code="EI-12", financed_fen=480_000, term=12).id


def test_api_propose_and_approve_by_a_second_person(client: TestClient, session: Session,
                                                    auth_headers: Headers) -> None:
    loan_id = _loan(session)
    collector, officer, finance = auth_headers("collector"), auth_headers("risk_officer"), auth_headers("finance")
    url = f"/api/v1/loans/{loan_id}/hardship"
    assert client.post(url, json={"kind": "holiday", "months": 2}).status_code == 401
    assert client.post(url, json={"kind": "holiday", "months": 2}, headers=auth_headers("shopper")).status_code == 403
    bad = client.post(url, json={"kind": "holiday", "months": 0}, headers=collector)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_input"
    r = client.post(url, json={"kind": "holiday", "months": 2, "reason": "失业"}, headers=collector)
    assert r.status_code == 201, r.text
    arr = r.json()
    assert arr["status"] == "proposed" and arr["apr"] is not None and Decimal(arr["apr"]) <= Decimal("0.24")
    assert [row["holiday"] for row in arr["schedule"][:3]] == [True, True, False]
    assert arr["schedule_principal"] == "4800.00"
    # A collector may propose but not approve.
    assert client.post(f"{url}/{arr['id']}/approve", headers=collector).status_code == 403
    r = client.post(f"{url}/{arr['id']}/approve", headers=officer)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["decided_on"]
    assert client.post(f"{url}/{arr['id']}/approve", headers=finance).status_code == 409
    assert get_loan(session, loan_id).term == 14

    # The same person may not approve what they proposed, whatever their role.
    r = client.post(url, json={"kind": "settlement", "settlement_amount": "3000.00"}, headers=officer)
    assert r.status_code == 201, r.text
    settlement = r.json()["id"]
    same = client.post(f"{url}/{settlement}/approve", headers=officer)
    assert same.status_code == 403 and same.json()["error"] == "maker_checker"
    assert "另一名员工" in same.json()["message"]
    english = client.post(f"{url}/{settlement}/approve", headers={**officer, "Accept-Language": "en"})
    assert "someone other" in english.json()["message"]
    assert client.post(f"{url}/{settlement}/reject", headers=finance).json()["status"] == "rejected"
    listed = client.get(url, headers=finance).json()["items"]
    assert [a["status"] for a in listed] == ["rejected", "approved"]
    assert client.post(f"/api/v1/loans/{loan_id}/hardship/999999/approve", headers=finance).status_code == 404


def test_restructure_above_the_cap_is_refused_over_http(client: TestClient, session: Session,
                                                        auth_headers: Headers) -> None:
    fresh_book(session)
    loan = book_loan(session, external_ref="HA2", product_code="FEE-060", financed_fen=300_000, term=3,
                     fee_rate=Decimal("0.0115"))
    r = client.post(f"/api/v1/loans/{loan.id}/hardship", json={"kind": "restructure", "new_term": 24},
                    headers=auth_headers("collector"))
    assert r.status_code == 422 and r.json()["error"] == "apr_above_cap"
    assert "超过上限" in r.json()["message"]


def _as(client: TestClient, session: Session, role: str) -> TestClient:
    user = create_user(session, role=role, display_name=f"纾困{role}")
    client.cookies.set(SESSION_COOKIE, start_session(session, user))
    return client


def test_console_propose_then_approve_on_the_approvals_page(client: TestClient, session: Session) -> None:
    loan_id = _loan(session)
    page = _as(client, session, "collector").get(f"/ops/loans/{loan_id}")
    assert page.status_code == 200 and "纾困方案" in page.text and "提交审批" in page.text
    r = client.post(f"/ops/loans/{loan_id}/hardship", follow_redirects=False,
                    data={"csrf_token": csrf_of(page.text), "kind": "restructure", "new_term": "18",
                          "reason": "收入下降"})
    assert r.status_code == 303, r.text
    page = client.get(f"/ops/loans/{loan_id}")
    assert "重组" in page.text and "待审批" in page.text
    bad = client.post(f"/ops/loans/{loan_id}/hardship",
                      data={"csrf_token": csrf_of(page.text), "kind": "holiday", "months": "2"})
    assert bad.status_code == 400 and "已有待审批" in bad.text  # a page with the reason, not JSON

    queue = _as(client, session, "risk_officer").get("/ops/hardship")
    assert queue.status_code == 200 and f"贷款 #{loan_id}" in queue.text and "新方案年化利率" in queue.text
    r = client.post(f"/ops/hardship/{_waiting_id(queue.text)}/approve", follow_redirects=False,
                    data={"csrf_token": csrf_of(queue.text)})
    assert r.status_code == 303
    after = client.get("/ops/hardship")
    assert "没有待审批的纾困方案" in after.text and "已生效" in after.text
    assert get_loan(session, loan_id).term == 18


def test_console_refuses_the_proposer_as_approver(client: TestClient, session: Session) -> None:
    loan_id = _loan(session)
    officer = _as(client, session, "risk_officer")
    page = officer.get(f"/ops/loans/{loan_id}")
    officer.post(f"/ops/loans/{loan_id}/hardship", data={"csrf_token": csrf_of(page.text), "kind": "holiday",
                                                         "months": "1"})
    queue = officer.get("/ops/hardship")
    assert "您本人" in queue.text and "approve-" not in queue.text  # no button for one's own proposal
    arrangement = _waiting_id(queue.text)
    r = officer.post(f"/ops/hardship/{arrangement}/approve", data={"csrf_token": csrf_of(queue.text)})
    assert r.status_code == 403 and "另一名员工" in r.text


def _waiting_id(html: str) -> int:
    import re

    match = re.search(r'id="arrangement-(\d+)"', html)
    assert match, "no arrangement waiting"
    return int(match.group(1))
