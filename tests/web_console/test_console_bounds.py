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
