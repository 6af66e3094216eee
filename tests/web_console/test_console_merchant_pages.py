"""The merchant console over HTTP: a till order from the form to the paid down payment, the clerk's
merchant scope, today's sales and statements, CSRF on the forms."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.origination.models import Application
from tests.origination.world import World
from tests.web_console.conftest import csrf_of, post_form, till_form

SignIn = Callable[..., TestClient]


def _submit(client: TestClient, world: World, **overrides: str) -> int:
    r = post_form(client, "/merchant/till", "/merchant/till", till_form(world, **overrides))
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_till_order_end_to_end(sign_in: SignIn, world: World, session: Session) -> None:
    client = sign_in("clerk", world.merchant_id)
    page = client.get("/merchant/till")
    assert page.status_code == 200
    # Every visible field has a label.
    for field in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page.text):
        assert f'for="{field}"' in page.text, field
    app_id = _submit(client, world)
    app = session.get(Application, app_id)
    assert app is not None and app.status == "approved" and app.channel == "store"
    view = client.get(f"/merchant/applications/{app_id}").text
    assert "年化利率" in view and 'id="draw-contract"' in view
    r = client.post(f"/merchant/applications/{app_id}/contract", data={"csrf_token": csrf_of(view)},
                    follow_redirects=False)
    assert r.status_code == 303
    view = client.get(f"/merchant/applications/{app_id}").text
    assert "contract.pdf" in view
    sha = re.search(r'name="contract_sha256" value="([0-9a-f]{64})"', view).group(1)  # type: ignore[union-attr]
    r = client.post(f"/merchant/applications/{app_id}/sign", follow_redirects=False, data={
        "csrf_token": csrf_of(view), "contract_sha256": sha, "consent_version": "e-contract-2026.1", "agree": "yes",
        "imei": world.devices[0], "channel": "alipay"})
    assert r.status_code == 303, r.text
    session.refresh(app)
    assert app.status == "signed" and app.loan_id is not None and app.payment_order
    view = client.get(f"/merchant/applications/{app_id}").text
    assert "<svg" in view and f"/payments/orders/{app.payment_order}" in view  # the QR and the cashier link
    assert 'id="handover"' not in view
    # The shopper pays: the page says the phone may be handed over; the sale is on today's list.
    from tests.web_console.helpers import pay

    pay(session, app.payment_order)
    assert 'id="handover"' in client.get(f"/merchant/applications/{app_id}").text
    sales = client.get("/merchant/sales").text
    assert f'href="/merchant/applications/{app_id}"' in sales and 'id="sales-count">1<' in sales
    assert f'href="/merchant/applications/{app_id}"' in client.get("/merchant/statements").text
    assert 'id="kpi-today-loans">1<' in client.get("/merchant").text


def test_signing_needs_the_shoppers_agreement(sign_in: SignIn, world: World) -> None:
    client = sign_in("clerk", world.merchant_id)
    app_id = _submit(client, world)
    view = client.get(f"/merchant/applications/{app_id}").text
    client.post(f"/merchant/applications/{app_id}/contract", data={"csrf_token": csrf_of(view)})
    view = client.get(f"/merchant/applications/{app_id}").text
    sha = re.search(r'name="contract_sha256" value="([0-9a-f]{64})"', view).group(1)  # type: ignore[union-attr]
    r = client.post(f"/merchant/applications/{app_id}/sign", data={
        "csrf_token": csrf_of(view), "contract_sha256": sha, "consent_version": "e-contract-2026.1",
        "imei": world.devices[0], "channel": "alipay"})
    assert r.status_code == 400 and "同意" in r.text


def test_bad_input_is_shown_in_the_form_and_nothing_is_stored(
    sign_in: SignIn, world: World, session: Session
) -> None:
    client = sign_in("clerk", world.merchant_id)
    before = session.query(Application).count()
    r = post_form(client, "/merchant/till", "/merchant/till", till_form(world, imei="861234567890123"))
    assert r.status_code in (400, 404, 409, 422) and 'role="alert"' in r.text
    assert 'value="张三丰"' in r.text  # the clerk does not type it all again
    r = post_form(client, "/merchant/till", "/merchant/till", till_form(world, consent_personal_info=""))
    assert r.status_code in (400, 422) and 'role="alert"' in r.text
    r = post_form(client, "/merchant/till", "/merchant/till", till_form(world, monthly_income="lots"))
    assert r.status_code == 400
    assert session.query(Application).count() == before


def test_declined_application_shows_its_reasons(sign_in: SignIn, world: World) -> None:
    client = sign_in("clerk", world.merchant_id)
    app_id = _submit(client, world, employment="student", occupation="none", monthly_income="800.00")
    view = client.get(f"/merchant/applications/{app_id}").text
    assert "s-declined" in view and "<li>" in view


def test_a_clerk_sees_only_their_own_merchant(sign_in: SignIn, world: World, session: Session) -> None:
    client = sign_in("clerk", world.merchant_id)
    app_id = _submit(client, world)
    other = sign_in("clerk", world.other_merchant_id)
    assert other.get(f"/merchant/applications/{app_id}").status_code == 403
    assert f'href="/merchant/applications/{app_id}"' not in other.get("/merchant/applications").text
    # Nor may a clerk sell from another merchant's store.
    r = post_form(other, "/merchant/till", "/merchant/till", till_form(world, store=world.store))
    assert r.status_code == 403


def test_owner_watches_but_does_not_sell(sign_in: SignIn, world: World) -> None:
    owner = sign_in("merchant_owner", world.merchant_id)
    assert owner.get("/merchant").status_code == 200
    assert owner.get("/merchant/statements?start=2026-11-01&end=2026-11-28").status_code == 200
    assert owner.get("/merchant/till").status_code == 403
    assert 'id="nav-till"' not in owner.get("/merchant").text


def test_forms_refuse_a_missing_csrf_token(sign_in: SignIn, world: World) -> None:
    client = sign_in("clerk", world.merchant_id)
    r = client.post("/merchant/till", data=till_form(world), follow_redirects=False)
    assert r.status_code == 403


def test_english_switch(sign_in: SignIn, world: World) -> None:
    client = sign_in("clerk", world.merchant_id)
    assert "收银台下单" in client.get("/merchant/till").text
    english = client.get(f"/merchant/till?lang=en&sku={world.sku}").text
    assert "Till order" in english and "Submit the application" in english


def test_the_clerk_changes_the_plan_within_the_decision(sign_in: SignIn, world: World, session: Session) -> None:
    client = sign_in("clerk", world.merchant_id)
    app_id = _submit(client, world)
    view = client.get(f"/merchant/applications/{app_id}").text
    assert 'id="change-plan"' in view and 'value="1000.00"' in view
    r = client.post(f"/merchant/applications/{app_id}/plan", follow_redirects=False,
                    data={"csrf_token": csrf_of(view), "plan": "EI-12|6", "down_payment": "1500.00"})
    assert r.status_code == 303, r.text
    app = session.get(Application, app_id)
    assert app is not None and (app.product_code, app.term, app.down_payment_fen) == ("EI-12", 6, 150_000)
    r = client.post(f"/merchant/applications/{app_id}/plan", data={"csrf_token": csrf_of(view), "plan": "nonsense"})
    assert r.status_code == 400 and 'role="alert"' in r.text
