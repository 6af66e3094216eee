"""Where shoppers and staff come in: the shop at `/`, the plan calculator on its own page, the staff's
discreet way in, sign-in with the agreement and privacy policy, the form's questions in the till's words,
the phone number filled in after the SMS sign-in, and the pick-up store on the confirmation."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from fenqi.pricing.service import menu_for_price
from fenqi.web.labels import ANSWERS, QUESTIONS
from tests.origination.world import World
from tests.web_shopper.test_shopper_pages import apply_url


def test_the_shoppers_form_and_the_till_ask_the_same_questions_in_the_same_words(
    shopper: TestClient, session: Session, world: World,
) -> None:
    form = shopper.get(apply_url(world)).text
    clerk = create_user(session, role="clerk", display_name="门店店员", merchant_id=world.merchant_id)
    shopper.cookies.set(SESSION_COOKIE, start_session(session, clerk))
    till = shopper.get("/merchant/till").text
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
    assert plans > 0 and calculator.text.count('class="card plan-card"') == plans
    assert "年化利率" in calculator.text and 'href="/"' in calculator.text
    refused = client.get("/calculator", params={"price": "-5", "lang": "en"})
    assert refused.status_code == 200 and 'role="alert"' in refused.text and "plan-card" not in refused.text
