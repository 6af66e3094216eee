"""Where shoppers and staff come in: the shop at `/`, the plan calculator on its own page, the staff's
discreet way in, sign-in with the agreement and privacy policy, the form's questions in the till's words,
the phone number filled in after the SMS sign-in, and the pick-up store on the confirmation."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.catalog.models import Store
from fenqi.identity.outbox import latest_notification, text_to_send
from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from fenqi.pricing.service import menu_for_price
from fenqi.web.labels import ANSWERS, QUESTIONS
from tests.origination.world import World
from tests.web_shopper.conftest import csrf_of
from tests.web_shopper.test_shopper_pages import _sign, apply_url, form, text_of


def test_the_shoppers_form_and_the_till_ask_the_same_questions_in_the_same_words(
    shopper: TestClient, session: Session, world: World,
) -> None:
    form = shopper.get(apply_url(world)).text
    clerk = create_user(session, role="clerk", display_name="门店店员", merchant_id=world.merchant_id)
    shopper.cookies.set(SESSION_COOKIE, start_session(session, clerk))
    till = shopper.get("/merchant/till", params={"imei": world.devices[0]}).text  # the phone first, then the form
    for page in (form, till):
        for key, answers in ANSWERS.items():
            assert f">{QUESTIONS[key][0]}</label>" in page, key
            for value, (zh, _) in answers.items():
                assert f'value="{value}"' in page and f">{zh}</option>" in page, (key, value)
        for name in ("name", "id_number", "monthly_income", "employment_years", "existing_loans"):
            assert f">{QUESTIONS[name][0]}</label>" in page, name
        # Questions of the foreign form the scorecard was trained on are not asked.
        assert "寿险" not in page and "保险" not in page and "职业类别" not in page


def test_the_home_page_is_the_shop_and_the_calculator_has_its_own_page(
    client: TestClient, session: Session, world: World,
) -> None:
    home = client.get("/")
    assert home.status_code == 200 and "text/html" in home.headers["content-type"]
    assert f'data-sku="{world.sku}"' in home.text and "低至 ¥" in home.text  # the phones, "from ¥x/月"
    assert 'href="/calculator"' in home.text and 'href="/login/staff"' in home.text  # calculator, staff's way in
    assert "员工登录" in home.text and "分期方案计算" not in home.text
    calculator = client.get("/calculator", params={"price": "4999"})
    assert calculator.status_code == 200 and "分期计算器" in calculator.text
    plans = len(menu_for_price(session, Decimal("4999")))
    assert plans > 0 and calculator.text.count('class="card plan plan-card"') == plans
    assert "年化利率" in calculator.text and 'href="/"' in calculator.text
    refused = client.get("/calculator", params={"price": "-5", "lang": "en"})
    assert refused.status_code == 200 and 'role="alert"' in refused.text and "plan-card" not in refused.text


PLAN = re.compile(r'data-product="([^"]+)" data-term="(\d+)"')


def _ranked(page: str) -> dict[str, list[str]]:
    """Each term's plans in the order the page lists them."""
    ranked: dict[str, list[str]] = {}
    for product, term in PLAN.findall(page):
        ranked.setdefault(term, []).append(product)
    return ranked


def test_the_calculator_ranks_and_labels_plans_as_the_plan_chooser_does(client: TestClient, world: World) -> None:
    chooser = client.get(f"/shop/phones/{world.sku}").text
    price = re.search(r'<div class="price">¥([\d,.]+)', client.get("/shop").text.split(f'data-sku="{world.sku}"')[1])
    assert price is not None
    calculator = client.get("/calculator", params={"price": price.group(1).replace(",", "")}).text
    ranked = _ranked(calculator)
    assert ranked == _ranked(chooser) and any(len(products) > 1 for products in ranked.values())
    for section in calculator.split('<section class="term"')[1:]:  # the least paid in all first, and marked
        paid = [Decimal(x.replace(",", "")) for x in re.findall(r"实付总额</span><strong>¥([\d,.]+)", section)]
        assert paid == sorted(paid) and section.count("本期数最省") >= 1
        assert section.count("比最省方案多付") == sum(p > paid[0] for p in paid)


def _login_form(client: TestClient, **data: str) -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post("/login/code", data={**data, "csrf_token": token}, follow_redirects=False)


@pytest.mark.parametrize(("lang", "says"), [("zh", "请阅读并勾选同意《用户服务协议》和《隐私政策》"),
                                            ("en", "Please read and tick your agreement to the Terms of Service")])
def test_no_code_without_the_agreement_and_the_typed_number_stays(
    client: TestClient, session: Session, lang: str, says: str,
) -> None:
    client.cookies.set("lang", lang)
    refused = _login_form(client, phone="13700137021")
    assert refused.status_code == 400 and says in refused.text and 'role="alert"' in refused.text
    assert 'value="13700137021"' in refused.text and "agreement_required" not in refused.text
    assert latest_notification(session, to="13700137021", template="login_code") is None  # no text sent
    # A wrong number with the box ticked: said, the number as typed and the tick kept.
    wrong = _login_form(client, phone="1370013702", agree="1")
    assert wrong.status_code == 400 and 'value="1370013702"' in wrong.text
    assert re.search(r'id="agree"[^>]*\bchecked\b', wrong.text)
    # The texts agreed to are pages anyone can read, linked from the form.
    form = client.get("/login").text
    assert 'href="/legal/terms"' in form and 'href="/legal/privacy"' in form
    terms, privacy = client.get("/legal/terms"), client.get("/legal/privacy")
    assert terms.status_code == privacy.status_code == 200
    assert ("年化利率" if lang == "zh" else "APR") in terms.text
    assert ("个人信息保护法" if lang == "zh" else "Personal Information Protection Law") in privacy.text
    assert _login_form(client, phone="13700137021", agree="1").status_code == 303


def test_after_the_sms_sign_in_the_form_has_the_shoppers_number(
    client: TestClient, session: Session, world: World,
) -> None:
    phone = "13700137022"
    sent = _login_form(client, phone=phone, agree="1", next=apply_url(world))
    verify = client.get(sent.headers["location"])
    sms = latest_notification(session, to=phone, template="login_code")
    assert sms is not None
    signed_in = client.post("/login/verify", follow_redirects=False, data={
        "ref": _field(verify.text, "ref"), "next": _field(verify.text, "next"), "csrf_token": csrf_of(verify.text),
        "code": re.findall(r"\d{6}", text_to_send(sms))[0]})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == apply_url(world)
    form = client.get(apply_url(world)).text
    assert re.search(rf'id="f-phone" name="phone" value="{phone}"', form)
    assert re.search(r'id="f-name" name="name" value=""', form)  # nothing else is guessed


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, name
    return match.group(1).replace("&amp;", "&")


def test_the_confirmation_names_the_pick_up_store(shopper: TestClient, world: World, session: Session) -> None:
    store = session.scalars(select(Store).where(Store.code == world.store)).one()
    store.address = "上海市徐汇区测试路 1 号"
    token = csrf_of(shopper.get(f"/shop/apply?sku={world.sku}&product=FEE-060&term=6&down_payment=0.00").text)
    applied = shopper.post("/shop/apply", follow_redirects=False, data={
        **form(world, product="FEE-060", term="6", down_payment="0.00"), "csrf_token": token})
    assert applied.status_code == 303, applied.text
    _, signed = _sign(shopper, int(applied.headers["location"].rsplit("/", 1)[1]), channel="wechatpay")
    page = shopper.get(signed.headers["location"])
    assert "分期已生效" in page.text
    card = text_of(page.text[page.text.index('id="pickup-store"'):])
    assert "取货门店 门店 测试数码 一店 商户 测试数码 地址 上海市徐汇区测试路 1 号" in card
