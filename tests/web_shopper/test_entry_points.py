"""Where shoppers and staff come in: the shop at `/`, the plan calculator on its own page, the staff's
discreet way in, sign-in with the agreement and privacy policy, the form's questions in the till's words,
the phone number filled in after the SMS sign-in, and the pick-up store on the confirmation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, start_session
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
