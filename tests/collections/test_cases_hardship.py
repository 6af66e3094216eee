"""Hardship and collections, wired at start-up (fenqi.collections.hooks): a paid settlement offer closes the
loan's case as settled, and the shopper's hardship request follows the arrangement proposed for it — its
outcome (the plan approved, or the rejection) shown to the shopper and in the case workspace."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.collections.hardship_requests import outcomes, request_hardship
from fenqi.collections.models_cases import HardshipRequest
from fenqi.identity.models import User
from fenqi.identity.service import create_user, shopper_for_phone
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from fenqi.kit.errors import Conflict, InvalidInput
from fenqi.kit.money import fmt_percent
from fenqi.servicing import hardship
from fenqi.servicing.service import amount_due, get_loan
from tests.collections.cases_support import book, case_of, pay
from tests.collections.support import FIRST_DUE, close_through, sold
from tests.origination.world import World
from tests.web_console.conftest import csrf_of

MAKER, CHECKER = 9001, 9002


def test_a_paid_settlement_closes_the_case_and_the_request_follows(session: Session, world: World) -> None:
    loan_id = book(session)
    close_through(session, FIRST_DUE + timedelta(days=2))
    case = case_of(session, loan_id)
    assert case is not None and case.status == "open"
    req = request_hardship(session, loan_id=loan_id, user_id=1, kind="settlement", reason="生意失败，只能一次付一部分")
    other = request_hardship(session, loan_id=book(session), user_id=1, kind="holiday", reason="另一笔贷款的申请")
    agreed = amount_due(session, loan_id)
    with pytest.raises(InvalidInput), session.begin_nested():  # a request of another loan: nothing kept
        hardship.propose(session, loan_id=loan_id, kind="settlement", settlement_fen=agreed, requested_by=MAKER,
                         request_id=other.id)
    arr = hardship.propose(session, loan_id=loan_id, kind="settlement", settlement_fen=agreed, requested_by=MAKER,
                           request_id=req.id)
    assert req.status == "in_review"
    hardship.approve(session, arr.id, user_id=CHECKER)
    assert req.status == "approved"
    [shown] = outcomes(session, loan_id)
    assert shown.label("zh") == "已批准" and shown.plan_label("zh").startswith("和解结清")
    assert shown.arrangement is not None and shown.arrangement.settlement_fen == agreed

    pay(session, loan_id, agreed)  # the payment that reaches the amount agreed: no close needed
    assert get_loan(session, loan_id).status == "paid_off"
    case = case_of(session, loan_id)
    assert case is not None and (case.status, case.close_reason) == ("closed", "settled")
    assert session.get(HardshipRequest, req.id).status == "settled"  # type: ignore[union-attr]


def _post(client: TestClient, page: str, action: str, data: dict[str, str]) -> object:
    return client.post(action, data={**data, "csrf_token": csrf_of(client.get(page).text)}, follow_redirects=False)


def _sign_in(client: TestClient, session: Session, user_id: int) -> None:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, start_session(session, session.get_one(User, user_id)))


def _requests_shown(html: str) -> str:
    return html.split('id="hardship-requests"', 1)[1].split("</ul>", 1)[0]


def test_the_request_shows_its_outcome_to_the_shopper_and_the_collector(
        client: TestClient, session: Session, world: World) -> None:
    app = sold(session, world)
    close_through(session, FIRST_DUE + timedelta(days=2))
    shopper = shopper_for_phone(session, "13812345678").id
    app.shopper_user_id = shopper
    case = case_of(session, app.loan_id)
    assert case is not None
    req = request_hardship(session, loan_id=app.loan_id, user_id=shopper, kind="restructure",
                           reason="收入减半，希望降低月供")
    collector = create_user(session, role="collector", display_name="纾困催收").id
    risk = create_user(session, role="risk_officer", display_name="纾困风控").id
    case.assigned_user_id = collector
    session.flush()
    loan_page = f"/ops/loans/{app.loan_id}"

    _sign_in(client, session, risk)  # the hardship desk lists the request and links to its loan
    desk = client.get("/ops/hardship").text.split('id="requests"', 1)[1].split("</table>", 1)[0]
    assert f"#{req.id}" in desk and f'href="{loan_page}#hardship"' in desk and "收入减半" in desk
    _sign_in(client, session, collector)
    assert f'<option value="{req.id}">' in client.get(loan_page).text  # the form offers the open request
    proposed = _post(client, loan_page, f"{loan_page}/hardship", {"kind": "restructure", "new_term": "18",
                                                                  "reason": "按申请重组", "request_id": str(req.id)})
    assert proposed.status_code == 303  # type: ignore[attr-defined]
    assert "审批中" in _requests_shown(client.get(f"/ops/cases/{case.id}").text)
    [first] = hardship.arrangements(session, loan_id=app.loan_id)
    assert first.request_id == req.id

    _sign_in(client, session, risk)  # the arrangement shows the request it answers; the desk no longer waits
    queue = client.get("/ops/hardship").text
    assert "收入减半" in queue.split(f'id="asked-{first.id}"', 1)[1].split("</dd>", 1)[0]
    assert f'href="{loan_page}#hardship"' not in queue.split('id="requests"', 1)[1].split("</table>", 1)[0]
    assert _post(client, "/ops/hardship", f"/ops/hardship/{first.id}/reject", {}).status_code == 303  # type: ignore[attr-defined]
    _sign_in(client, session, shopper)
    mine = _requests_shown(client.get(f"/shop/loans/{app.loan_id}/overdue").text)
    assert "未获批准" in mine and "可再次提交申请" in mine

    _sign_in(client, session, collector)  # a rejected request may be answered again
    again = _post(client, loan_page, f"{loan_page}/hardship", {"kind": "restructure", "new_term": "24",
                                                               "reason": "延长至 24 期", "request_id": str(req.id)})
    assert again.status_code == 303  # type: ignore[attr-defined]
    second = max(hardship.arrangements(session, loan_id=app.loan_id), key=lambda a: a.id)
    _sign_in(client, session, risk)
    assert _post(client, "/ops/hardship", f"/ops/hardship/{second.id}/approve", {}).status_code == 303  # type: ignore[attr-defined]
    session.expire_all()
    assert session.get_one(HardshipRequest, req.id).status == "approved" and second.apr is not None

    _sign_in(client, session, shopper)
    mine = _requests_shown(client.get(f"/shop/loans/{app.loan_id}/overdue").text)
    assert "已批准" in mine and "重组（延长期限）" in mine and fmt_percent(second.apr) in mine
    assert f'href="/shop/loans/{app.loan_id}#hardship"' in mine
    assert "纾困方案：重组</h2>" in client.get(f"/shop/loans/{app.loan_id}").text  # the arrangement in force
    _sign_in(client, session, collector)
    work = _requests_shown(client.get(f"/ops/cases/{case.id}").text)
    assert "已批准" in work and "重组（延长期限）" in work and fmt_percent(second.apr) in work
    with pytest.raises(Conflict), session.begin_nested():  # an approved request is answered
        hardship.propose(session, loan_id=app.loan_id, kind="restructure", new_term=30, requested_by=collector,
                         request_id=req.id)
