"""The consoles with oversized amounts and ids: the till form says what is wrong, the pages' addresses and
query strings are refused with a page, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.origination.models import Application
from tests.origination.world import World
from tests.web_console.conftest import post_form, till_form

SignIn = Callable[..., TestClient]
PAGE = {"Accept": "text/html"}


@pytest.mark.parametrize(("field", "value"), [("monthly_income", "9" * 40), ("down_payment", "1E+30")])
def test_till_refuses_oversized_amounts_in_the_form(
    sign_in: SignIn, world: World, session: Session, field: str, value: str
) -> None:
    client = sign_in("clerk", world.merchant_id)
    before = session.query(Application).count()
    response = post_form(client, "/merchant/till", "/merchant/till", till_form(world, **{field: value}))
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert "金额" in response.text
    assert session.query(Application).count() == before


@pytest.mark.parametrize("path", [f"/ops/loans/{2**63}", f"/merchant/applications/{10**30}",
                                  f"/merchant?merchant={2**64}", f"/ops/risk/decisions/{2**63}"])
def test_console_addresses_out_of_range_are_error_pages(sign_in: SignIn, world: World, path: str) -> None:
    role = "merchant_owner" if path.startswith("/merchant") else "risk_officer" if "risk" in path else "finance"
    client = sign_in(role, world.merchant_id if role == "merchant_owner" else None)
    response = client.get(path, headers=PAGE)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("text/html") and "编号无效" in response.text


def test_dashboard_days_out_of_range_is_refused(sign_in: SignIn) -> None:
    client = sign_in("admin")
    response = client.get("/ops/dashboard", params={"days": "9" * 40}, headers=PAGE)
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")


# Digits Python's str.isdigit() takes but int() refuses ("²", "①"), and numbers beyond any id: a form of the
# consoles answers with a page that says what is wrong, never a 500.
ODD_NUMBERS = ["²", "①", "9" * 40, str(2**64), "1" * 5000]


@pytest.mark.parametrize("q", ODD_NUMBERS)
def test_loan_search_by_an_odd_number_is_a_page(sign_in: SignIn, world: World, q: str) -> None:
    client = sign_in("finance")
    response = post_form(client, "/ops/loans", "/ops/loans", {"q": q})
    assert response.status_code == 400, response.text[:300]
    assert response.headers["content-type"].startswith("text/html") and "请输入贷款号" in response.text


@pytest.mark.parametrize("merchant", ["-1", "²", "9" * 40, "1" * 5000])
def test_huabei_setting_for_an_odd_merchant_number_is_refused(sign_in: SignIn, world: World, merchant: str) -> None:
    client = sign_in("admin")
    response = post_form(client, "/merchant", "/merchant/huabei", {"merchant": merchant, "hb_fq_seller_percent": "100"})
    assert response.status_code == 400, response.text[:300]
    assert response.headers["content-type"].startswith("text/html") and "编号无效" in response.text


@pytest.mark.parametrize("term", ["²", "①"])
def test_plan_terms_in_odd_digits_are_refused_with_a_page(sign_in: SignIn, world: World, term: str) -> None:
    client = sign_in("risk_officer")
    response = post_form(client, "/ops/reviews", "/ops/reviews/1", {"verdict": "counter", "plan": f"EI-12|{term}"})
    assert response.status_code < 500, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
