"""Decisions staff can act on: the clerk sees a decline's reasons and the plans the rules would approve
(a cheaper phone on the shelf among them) and takes one at the till; the risk officer approves a referred
application with a counter-offer — refused outside the credit limit — and the clerk and the shopper then
see the approved plan beside the one applied for."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_store_by_code, register_device
from fenqi.funding.service import add_product, create_funder
from fenqi.identity.sessions import SESSION_COOKIE
from fenqi.origination.models import Application
from fenqi.risk.models import RiskDecision
from tests.origination.world import ALL_METHODS, World, imei
from tests.web_console.conftest import csrf_of, post_form, till_form
from tests.web_console.test_chinese_pages import visible_text
from tests.web_shopper.conftest import sign_in as shopper_sign_in
from tests.web_shopper.test_shopper_pages import submit, text_of

SignIn = Callable[..., TestClient]


def test_the_clerk_sees_the_reasons_and_sells_a_cheaper_phone_that_passes(
    sign_in: SignIn, world: World, session: Session
) -> None:
    store = get_store_by_code(session, world.store)
    cheap = register_device(session, imei=imei(900_001), sku_code=world.cheap_sku, store_id=store.id).imei
    clerk = sign_in("clerk", world.merchant_id)
    r = post_form(clerk, "/merchant/till", "/merchant/till", till_form(world, monthly_income="700.00"))
    declined = session.get(Application, int(r.headers["location"].rsplit("/", 1)[1]))
    assert declined is not None and declined.status == "declined"
    view = clerk.get(f"/merchant/applications/{declined.id}").text
    assert "每月还款额占您月收入的比例偏高" in text_of(view) and 'id="suggestions"' in view
    assert 'data-kind="model"' in view and "¥1,999.00" in view and 'data-kind="down_payment"' in view
    assert "客服热线 <a href=\"tel:400-800-8888\">" in view
    key = re.search(r'name="suggestion" value="(model\|[^"]+)"', view).group(1)  # type: ignore[union-attr]
    taken = clerk.post(f"/merchant/applications/{declined.id}/suggestion", follow_redirects=False,
                       data={"suggestion": key, "csrf_token": csrf_of(view)})
    assert taken.status_code == 303, taken.text
    new = session.get(Application, int(taken.headers["location"].rsplit("/", 1)[1]))
    assert new is not None and new.status == "approved", new.reasons
    assert new.sku_code == world.cheap_sku and new.channel == "store" and new.device_imei is None
    assert new.merchant_id == world.merchant_id and new.id_hash == declined.id_hash
    # The phone is scanned when it is handed over, as for any till sale.
    assert 'id="draw-contract"' in clerk.get(taken.headers["location"]).text
    assert cheap


def _referred(client: TestClient, session: Session, world: World) -> tuple[Application, RiskDecision]:
    """An online application the score sends to review (grade E: a ¥5,000 limit, 3 or 6 months), with
    a funder that lends to that grade."""
    create_funder(session, code="FE", name="丙消费金融", kind="consumer_finance", daily_quota_fen=2_000_000,
                  monthly_quota_fen=20_000_000, priority=3)
    add_product(session, funder_code="FE", methods=ALL_METHODS, terms=[3, 6, 12, 24], annual_rate=Decimal("0.10"),
                min_grade="E")
    shopper_sign_in(client, session, "13700137021")
    done = submit(client, world, bank_account="low_balance", savings="none", assets="none", housing="rent",
                  employment_years="1", residence_years="1")
    app = session.get(Application, int(done.headers["location"].rsplit("/", 1)[1]))
    assert app is not None and app.status == "referred" and app.grade == "E", app.reasons
    decision = session.scalar(select(RiskDecision).where(RiskDecision.id == app.decision_id))
    assert decision is not None and decision.credit_limit_fen == 500_000
    return app, decision


def test_a_counter_offer_outside_the_limit_is_refused_and_within_it_reaches_clerk_and_shopper(
    sign_in: SignIn, client: TestClient, world: World, session: Session
) -> None:
    app, decision = _referred(client, session, world)
    shopper_cookie = client.cookies.get(SESSION_COOKIE)
    officer = sign_in("risk_officer")
    queue = officer.get("/ops/reviews").text
    assert f'id="counter-{decision.id}"' in queue and "¥" in queue
    # ¥600 down leaves ¥5,399 to finance: above the ¥5,000 limit.
    refused = officer.post(f"/ops/reviews/{decision.id}", data={
        "verdict": "counter", "note": "调整方案", "plan": "EI-12|6", "down_payment": "600.00",
        "csrf_token": csrf_of(queue)})
    assert refused.status_code == 200 and 'role="alert"' in refused.text
    alert = re.search(r'role="alert">([^<]*)<', refused.text).group(1)  # type: ignore[union-attr]
    assert "超出可用额度" in alert and "5,399.00" in alert and "5,000.00" in alert, alert
    # A plan the grade does not allow is refused too, saying which are allowed.
    longer = officer.post(f"/ops/reviews/{decision.id}", data={
        "verdict": "counter", "note": "调整方案", "plan": "EI-12|12", "down_payment": "2000.00",
        "csrf_token": csrf_of(queue)})
    assert "不在该信用等级可选的方案内" in longer.text
    # A down payment the plan does not take says which it does.
    low = officer.post(f"/ops/reviews/{decision.id}", data={
        "verdict": "counter", "note": "调整方案", "plan": "EI-12|6", "down_payment": "100.00",
        "csrf_token": csrf_of(queue)})
    assert "该方案的首付须在 ¥599.90 至 ¥5,399.10 之间" in low.text
    session.refresh(app)
    assert app.status == "referred" and app.down_payment_fen == 100_000  # nothing changed
    # Within the limit: ¥2,000 down on 6 months.
    ok = officer.post(f"/ops/reviews/{decision.id}", follow_redirects=False, data={
        "verdict": "counter", "note": "收入偏低，提高首付、缩短期限", "plan": "EI-12|6", "down_payment": "2000.00",
        "csrf_token": csrf_of(queue)})
    assert ok.status_code == 303, ok.text
    session.refresh(app)
    assert app.status == "approved" and app.term == 6 and app.down_payment_fen == 200_000
    assert app.financed_fen <= decision.credit_limit_fen and app.funder_code
    # The clerk of the store sees the approved plan beside the one applied for.
    clerk = sign_in("clerk", world.merchant_id)
    view = clerk.get(f"/merchant/applications/{app.id}").text
    assert 'id="counter-offer"' in view and "¥2,000.00" in view and "¥1,000.00" in view
    assert "6 期" in re.search(r'id="approved-plan">([^<]+)<', view).group(1)  # type: ignore[union-attr]
    # Its status and decision agree: approved on the adjusted plan, not still "referred" (转人工).
    assert "转人工" not in visible_text(view), visible_text(view)[:800]
    assert "已批准" in re.search(r'id="app-status">([^<]+)<', view).group(1)  # type: ignore[union-attr]
    decided = re.search(r'id="decision">([^<]+)<', view)
    assert decided and decided.group(1).strip() == "人工审核批准（调整方案）", decided
    assert "Approved on review, on an adjusted plan" in clerk.get(f"/merchant/applications/{app.id}?lang=en").text
    clerk.get(f"/merchant/applications/{app.id}?lang=zh")  # back to Chinese (the choice is kept in a cookie)
    # The shopper sees it too, and accepting leads to the contract of the approved plan.
    client.cookies.set(SESSION_COOKIE, shopper_cookie or "")
    page = client.get(f"/shop/applications/{app.id}").text
    assert 'id="counter-offer"' in page and "接受批准的方案" in page
    offer = client.get(f"/shop/applications/{app.id}/offer")
    assert offer.status_code == 200 and "¥2,000.00" in offer.text
