"""The after-sales pages render in Chinese (and English) for the shopper, the store desk and operations,
and keep each to their own: a shopper sees only their cases, a clerk only their merchant's."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.principal import Principal
from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from tests.origination.world import build_world
from tests.web_shopper.conftest import csrf_of


def _sold_online(session: Session) -> tuple[Any, Any, Principal]:
    from fenqi.demo.history import archived_contracts
    from fenqi.origination import service, signing
    from fenqi.origination.schemas import ApplicationIn

    world = build_world(session, "PG")
    user = create_user(session, role="shopper", display_name="页面顾客", phone="13700137055")
    who = Principal(user.id, "shopper", None, "页面顾客")
    body = ApplicationIn.model_validate(world.body(imei=world.devices[0], phone="13700137055"))
    app = service.submit(session, body, who, service.Origin("127.0.0.1", "t")).application
    with archived_contracts():
        contract = signing.generate_contract(session, app)
    signing.sign(session, app, contract_sha256=contract.sha256, consent_version="e-contract-2026.1", imei=None,
                 channel="alipay", principal=who, origin=service.Origin("127.0.0.1", "t"))
    return world, app, who


def _login(client: TestClient, session: Session, user_id: int) -> None:
    from fenqi.identity.models import User

    user = session.get(User, user_id)
    client.cookies.set(SESSION_COOKIE, start_session(session, user))


def test_shopper_asks_for_after_sales_from_a_loan_and_sees_the_case(client: TestClient, session: Session) -> None:
    _, app, who = _sold_online(session)
    _login(client, session, who.user_id)
    loan_page = client.get(f"/shop/loans/{app.loan_id}")
    assert "申请售后" in loan_page.text
    form = client.get(f"/shop/loans/{app.loan_id}/aftersales")
    assert form.status_code == 200 and "提交申请" in form.text
    # A real photo: NUL bytes inside (every PNG's IHDR length has some) and larger than other requests' 1 MiB.
    photo = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * (6 * 1024)
    assert len(photo) > 1024 * 1024
    nul_in_a_field = client.post(f"/shop/loans/{app.loan_id}/aftersales", data={
        "csrf_token": csrf_of(form.text), "form_key": "k0", "requested": "return", "reason": "no_\x00reason"},
        files={"photos": ("a.png", photo, "image/png")})
    assert nul_in_a_field.status_code == 400  # the fields are still held to the rule, the files are not
    r = client.post(f"/shop/loans/{app.loan_id}/aftersales", follow_redirects=False, data={
        "csrf_token": csrf_of(form.text), "form_key": "k1", "requested": "return", "reason": "no_reason"},
        files={"photos": ("a.png", photo, "image/png")})
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert "已提交，待门店验机" in page.text and "申请退货" in page.text
    bad = client.post(f"/shop/loans/{app.loan_id}/aftersales", data={
        "csrf_token": csrf_of(form.text), "form_key": "k2", "requested": "repair", "reason": "fault"},
        files={"photos": ("a.png", b"GIF89a", "image/gif")})
    assert bad.status_code == 400 and "照片无效" in bad.text  # and nothing was written:
    assert "这台手机已有进行中的售后单" not in bad.text
    listing = client.get("/shop/aftersales")
    assert listing.status_code == 200 and "售后单" in listing.text
    en = client.get(r.headers["location"], headers={"Accept-Language": "en"})
    assert "Submitted, waiting for the store" in en.text


def test_the_desk_inspects_and_sees_the_proposal_and_ops_sees_the_queue(client: TestClient,
                                                                       session: Session) -> None:
    from fenqi.aftersales.service import open_case

    world, app, who = _sold_online(session)
    case = open_case(session, who, requested="return", reason="no_reason", loan_id=app.loan_id)
    clerk = create_user(session, role="clerk", display_name="店员", merchant_id=world.merchant_id)
    _login(client, session, clerk.id)
    desk = client.get(f"/merchant/aftersales/{case.id}")
    assert desk.status_code == 200 and "验机清单" in desk.text
    boxes = {"csrf_token": csrf_of(desk.text)}
    boxes.update({f"check-{code}": "on" for code in ("seal", "account_signed_out", "no_activation_traces",
                                                     "no_scratches", "water_indicator", "body_intact", "cable",
                                                     "headset")})  # the charger is missing
    r = client.post(f"/merchant/aftersales/{case.id}/inspect", data=boxes, follow_redirects=True)
    assert r.status_code == 200
    assert "第0天，在7天无理由退货期内" in r.text and "扣减49.00元" in r.text and 'id="decide-return"' in r.text
    other = create_user(session, role="clerk", display_name="别家店员", merchant_id=world.other_merchant_id)
    _login(client, session, other.id)
    assert client.get(f"/merchant/aftersales/{case.id}").status_code == 403
    assert f'/merchant/aftersales/{case.id}"' not in client.get("/merchant/aftersales").text
    finance = create_user(session, role="finance", display_name="财务")
    _login(client, session, finance.id)
    queue = client.get("/ops/aftersales")
    assert queue.status_code == 200 and "未完成售后单" in queue.text and "投诉队列" in queue.text
    # Return rates: the one phone sold at the store, returned (the outcome as the desk would record it).
    assert "100.0%" not in queue.text
    case.outcome = "return"
    session.commit()
    rates = client.get("/ops/aftersales").text.split("退货", 1)[1]
    assert "<td>1</td><td>1</td><td>0</td><td>0</td><td>100.0%</td>" in rates


def test_the_desk_refuses_a_case_with_a_reason(client: TestClient, session: Session) -> None:
    from fenqi.aftersales.service import open_case

    world, app, who = _sold_online(session)
    case = open_case(session, who, requested="return", reason="no_reason", loan_id=app.loan_id)
    clerk = create_user(session, role="clerk", display_name="店员", merchant_id=world.merchant_id)
    _login(client, session, clerk.id)
    desk = client.get(f"/merchant/aftersales/{case.id}")
    assert 'id="refuse-submit"' in desk.text
    blank = client.post(f"/merchant/aftersales/{case.id}/refuse", data={"csrf_token": csrf_of(desk.text),
                                                                        "reason": " "})
    assert "请填写不予受理的原因" in blank.text and "未受理" not in blank.text
    r = client.post(f"/merchant/aftersales/{case.id}/refuse", follow_redirects=True,
                    data={"csrf_token": csrf_of(desk.text), "reason": "门店购买的手机不适用无理由退货"})
    assert r.status_code == 200 and "未受理" in r.text and "门店购买的手机不适用无理由退货" in r.text
    assert 'id="refuse-submit"' not in r.text
    _login(client, session, who.user_id)
    mine = client.get(f"/shop/aftersales/{case.id}")
    assert "门店不予受理：门店购买的手机不适用无理由退货" in mine.text and 'id="withdraw"' not in mine.text
