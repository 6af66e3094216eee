"""One shopper, one account: a loan sold at the till belongs to the account of the shopper's phone number,
is under 我的分期 at the first sign-in by SMS code, and a text after signing links to it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.outbox import latest_notification, text_to_send
from fenqi.identity.service import create_user, user_by_phone
from fenqi.servicing.models import Loan
from tests.origination.world import World
from tests.web_console.conftest import csrf_of
from tests.web_console.helpers import sell

PHONE = "13812345678"  # the world's shopper (tests/origination/world.py)


def _code_login(client: TestClient, session: Session, phone: str, next_path: str) -> None:
    token = csrf_of(client.get(f"/login?next={next_path}").text)
    sent = client.post("/login/code", data={"agree": "1", "phone": phone, "csrf_token": token, "next": next_path},
                       follow_redirects=False)
    assert sent.status_code == 303, sent.text
    sms = latest_notification(session, to=phone, template="login_code")
    code = re.search(r"\d{6}", text_to_send(sms)).group(0)  # type: ignore[arg-type, union-attr]
    page = client.get(sent.headers["location"])
    ref = re.search(r'name="ref" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/login/verify", data={"ref": ref, "code": code, "csrf_token": csrf_of(page.text)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def test_a_till_loan_is_the_shoppers_at_first_sign_in(client: TestClient, session: Session, world: World) -> None:
    assert user_by_phone(session, PHONE) is None  # never signed in before
    app = sell(session, world)
    owner = user_by_phone(session, PHONE)
    assert owner is not None and owner.role == "shopper" and app.shopper_user_id == owner.id
    loan = session.get(Loan, app.loan_id)
    assert loan is not None and loan.customer_id == owner.id
    # The text after signing: where to see and repay the loan (the link, no personal data in clear).
    sms = latest_notification(session, to=PHONE, template="loan_signed")
    assert sms is not None
    text = text_to_send(sms)
    assert f"/shop/loans/{app.loan_id}" in text and "登录" in text
    # First sign-in with the code sent to that phone: the loan is under 我的分期, its page opens.
    _code_login(client, session, PHONE, f"/shop/loans/{app.loan_id}")
    mine = client.get("/shop/loans")
    assert mine.status_code == 200 and f'href="/shop/loans/{app.loan_id}"' in mine.text
    page = client.get(f"/shop/loans/{app.loan_id}")
    assert page.status_code == 200 and "还款" in page.text


def test_an_account_holding_another_id_number_is_not_given_the_loan(session: Session, world: World) -> None:
    """A number passed on to someone else: the account already holds another person's loan."""
    first = sell(session, world)
    holder = user_by_phone(session, PHONE)
    assert holder is not None and first.shopper_user_id == holder.id
    from datetime import date

    from tests.origination.world import clean_id_number

    other = sell(session, world, imei=world.devices[1], id_number=clean_id_number(date(1985, 6, 1)), name="李四")
    assert other.shopper_user_id is None
    assert latest_notification(session, to=PHONE, template="loan_signed") is not None  # only the first


def test_staff_number_gets_no_shopper_link(session: Session, world: World) -> None:
    create_user(session, role="clerk", display_name="店员", merchant_id=world.merchant_id, phone=PHONE)
    app = sell(session, world)
    assert app.shopper_user_id is None
