"""The shopper's pages with oversized amounts and ids in their query strings and forms: a page that says
what is wrong (or the error page), never a 500 and never JSON."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.origination.models import Application
from tests.origination.world import World
from tests.web_shopper.test_shopper_pages import PAGE, submit

HUGE = ["9" * 40, "1E+30", "NaN", "1" * 28]


@pytest.mark.parametrize("down", HUGE)
def test_plans_page_shows_an_oversized_down_payment_inline(client: TestClient, world: World, down: str) -> None:
    response = client.get(f"/shop/phones/{world.sku}", params={"down_payment": down}, headers=PAGE)
    assert response.status_code == 200
    assert "金额" in response.text


@pytest.mark.parametrize("down", HUGE)
def test_apply_page_refuses_an_oversized_down_payment_with_a_page(
    shopper: TestClient, world: World, down: str
) -> None:
    response = shopper.get("/shop/apply", params={"sku": world.sku, "product": "EI-12", "term": 12,
                                                  "down_payment": down}, headers=PAGE)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html") and "金额" in response.text


def test_oversized_income_in_the_form_is_shown_next_to_the_field(
    shopper: TestClient, session: Session, world: World
) -> None:
    before = session.scalar(select(func.count()).select_from(Application))
    response = submit(shopper, world, monthly_income="9" * 40)
    assert response.status_code == 400
    assert "请填写月收入" in response.text
    assert session.scalar(select(func.count()).select_from(Application)) == before


@pytest.mark.parametrize("raw", [str(2**63), "9" * 30])
def test_page_addresses_with_ids_out_of_range_are_error_pages(shopper: TestClient, raw: str) -> None:
    for path in (f"/shop/loans/{raw}", f"/shop/applications/{raw}", f"/shop/applications/{raw}/contract/1.png"):
        response = shopper.get(path, headers=PAGE)
        assert response.status_code == 400, path
        assert response.headers["content-type"].startswith("text/html")
        assert "编号无效" in response.text


@pytest.mark.parametrize("value", ["²", "①"])
def test_counts_and_terms_in_digits_int_cannot_read_are_refused_with_a_page(
    shopper: TestClient, session: Session, world: World, value: str
) -> None:
    """"²" and "①" pass str.isdigit() but not int(): the form says what is wrong, never a 500."""
    before = session.scalar(select(func.count()).select_from(Application))
    response = submit(shopper, world, employment_years=value)
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")
    response = submit(shopper, world, term=value)
    assert response.status_code in (400, 404) and response.headers["content-type"].startswith("text/html")
    assert session.scalar(select(func.count()).select_from(Application)) == before
