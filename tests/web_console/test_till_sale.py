"""The till sells in a minute: the scanned phone's plans only, each with its monthly payment and APR; no answer
about the shopper filled in beforehand (missing ones named in the refusal); the down payment's status for the
page's own poll; the handover (交付) recorded once, after the down payment, and counted from by after-sales;
the printable receipt."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.aftersales.service import open_case
from fenqi.kit.clock import business_date, set_business_date
from fenqi.kit.money import from_fen
from fenqi.origination.models import Application
from fenqi.pricing.service import menu_for_price
from tests.origination.world import World
from tests.web_console.conftest import csrf_of, post_form, till_form
from tests.web_console.helpers import pay, sell

SignIn = Any


def test_the_till_offers_the_scanned_phones_plans_and_asks_every_answer(
    sign_in: SignIn, world: World, session: Session
) -> None:
    client = sign_in("clerk", world.merchant_id)
    first = client.get("/merchant/till").text
    assert 'name="plan"' not in first and 'id="imei"' in first  # step one: scan the phone
    page = client.get(f"/merchant/till?imei={world.devices[0]}").text
    from fenqi.catalog.service import get_sku

    sku = get_sku(session, world.sku)
    expected = {f"{o.product.code}|{o.quote.request.term}": o for o in menu_for_price(session, from_fen(sku.price_fen))}
    offered = re.findall(r'name="plan" value="([^"]+)"', page)
    assert offered and set(offered) == set(expected)
    for key, option in expected.items():
        card = page[page.index(f'value="{key}"'):][:900]
        assert f"¥{option.quote.installments[0].total:,.2f}" in card and "月供" in card, key
        assert "年化利率" in card and f"{option.quote.apr * 100:.2f}%" in card, key
    # Nothing about income, housing or accounts is answered beforehand: every question starts empty.
    from fenqi.web.console.merchant import PROFILE_CHOICES

    for key in PROFILE_CHOICES:
        select_html = re.search(rf'<select id="{key}"[^>]*>(.*?)</select>', page, re.S)
        assert select_html and "required" in page[page.index(f'<select id="{key}"'):][:80], key
        assert re.search(r'<option value="" selected>', select_html.group(1)), key
        assert " selected>" not in select_html.group(1).replace('<option value="" selected>', ""), key
    for key in ("monthly_income", "employment_years", "residence_years", "existing_loans"):
        assert re.search(rf'<input id="{key}"[^>]*required[^>]*value=""', page), key
    # The clerk skipped two questions: both named, nothing stored, the typed answers kept.
    before = session.scalar(select(func.count(Application.id)))
    r = post_form(client, "/merchant/till", "/merchant/till", till_form(world, housing="", monthly_income=""))
    assert r.status_code == 400 and "请询问顾客并填写：住房情况、月收入" in r.text
    assert 'value="张三丰"' in r.text and session.scalar(select(func.count(Application.id))) == before
    # A phone that is not this shop's to sell: said at once, on the scan.
    other = client.get("/merchant/till?imei=861234567890123").text
    assert 'role="alert"' in other and 'name="plan"' not in other


def test_the_handover_follows_the_down_payment_is_recorded_once_and_starts_the_return_window(
    sign_in: SignIn, world: World, session: Session
) -> None:
    client = sign_in("clerk", world.merchant_id)
    app = sell(session, world, pay_down=False)
    assert app.payment_order and app.handed_over_at is None
    status = f"/merchant/applications/{app.id}/status"
    assert client.get(status, headers={"Accept": "application/json"}).json()["paid"] is False
    view = client.get(f"/merchant/applications/{app.id}").text
    assert f'data-poll="{status}"' in view and 'id="hand-over"' not in view
    r = client.post(f"/merchant/applications/{app.id}/handover", data={"csrf_token": csrf_of(view)})
    assert r.status_code == 409 and "首付尚未到账" in r.text
    session.refresh(app)
    assert app.handed_over_at is None
    # Two days later the shopper pays; the page's poll sees it, and the clerk hands the phone over.
    handover_day = business_date(session) + timedelta(days=2)
    set_business_date(session, handover_day)
    pay(session, app.payment_order)
    assert client.get(status, headers={"Accept": "application/json"}).json() == {
        "status": "signed", "paid": True, "handed_over": False}
    view = client.get(f"/merchant/applications/{app.id}").text
    assert 'id="hand-over"' in view and "data-poll" not in view
    r = client.post(f"/merchant/applications/{app.id}/handover", data={"csrf_token": csrf_of(view)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/merchant/applications/{app.id}/receipt"
    session.refresh(app)
    assert app.handed_over_on == handover_day and app.handed_over_at is not None and app.handed_over_by
    at = app.handed_over_at
    again = client.post(f"/merchant/applications/{app.id}/handover", data={"csrf_token": csrf_of(view)},
                        follow_redirects=False)
    assert again.status_code == 303
    session.refresh(app)
    assert app.handed_over_at == at  # recorded once
    receipt = client.get(r.headers["location"]).text
    assert "交付凭证" in receipt and app.device_imei in receipt and "张**" in receipt and "张三丰" not in receipt
    assert f"性能故障可退货至</dt><dd>{(handover_day + timedelta(days=7)).isoformat()}" in receipt
    assert f"/shop/loans/{app.loan_id}" in receipt and 'id="print-receipt"' in receipt
    assert 'id="receipt-link"' in client.get(f"/merchant/applications/{app.id}").text
    # After-sales counts from the handover, not from the signing two days before.
    from tests.web_console.helpers import clerk_principal

    case = open_case(session, clerk_principal(session, world.merchant_id), requested="return", reason="fault",
                     imei=app.device_imei, description="屏幕闪烁")
    assert case.sale_date == handover_day


def test_before_the_handover_the_receipt_leads_to_the_application(
    sign_in: SignIn, world: World, session: Session
) -> None:
    client = sign_in("clerk", world.merchant_id)
    app = sell(session, world)
    r = client.get(f"/merchant/applications/{app.id}/receipt", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/merchant/applications/{app.id}"


def test_an_approval_is_not_explained_with_a_declines_reasons(
    sign_in: SignIn, world: World, session: Session
) -> None:
    from datetime import date

    from tests.origination.world import clean_id_number

    client = sign_in("clerk", world.merchant_id)
    r = post_form(client, "/merchant/till", "/merchant/till", till_form(world))
    approved = session.get(Application, int(r.headers["location"].rsplit("/", 1)[1]))
    # The decision keeps the score's heaviest factors on record; the clerk's page does not read them out.
    assert approved is not None and approved.status == "approved" and approved.reasons
    page = client.get(f"/merchant/applications/{approved.id}").text
    assert 'id="reasons"' not in page and "主要原因" not in page and "额度" not in page
    r = post_form(client, "/merchant/till", "/merchant/till",
                  till_form(world, monthly_income="700.00", imei=world.devices[2],
                            id_number=clean_id_number(date(1988, 6, 1)), phone="13912345679"))
    declined = session.get(Application, int(r.headers["location"].rsplit("/", 1)[1]))
    assert declined is not None and declined.status == "declined"
    page = client.get(f"/merchant/applications/{declined.id}").text
    assert 'id="reasons"' in page and "主要原因" in page
