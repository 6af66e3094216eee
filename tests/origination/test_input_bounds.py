"""Amounts and ids of an application are bounded where they enter: the API, the shopper's pages and the
till form refuse oversized amounts with the usual error, and nothing is stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.origination.models import Application
from tests.origination.world import World


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Application)) or 0


@pytest.mark.parametrize("income", ["9" * 40, "1" * 28, "1E+30", 1e300, "Infinity"])
def test_monthly_income_out_of_bounds_is_refused(
    client: TestClient, session: Session, world: World, clerk: dict[str, str], income: object
) -> None:
    before = _count(session)
    response = client.post("/api/v1/applications", json=world.body(profile={"monthly_income": income}),
                           headers=clerk)
    assert response.status_code == 400, response.text
    assert response.json()["error"] in ("amount_too_large", "invalid_amount")
    assert response.json()["fields"] == ["body.profile.monthly_income"]
    assert _count(session) == before


def test_true_is_not_an_income_or_a_down_payment(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    for body in (world.body(profile={"monthly_income": True}), world.body(down_payment=True)):
        response = client.post("/api/v1/applications", json=body, headers=clerk)
        assert response.status_code == 422 and response.json()["error"] == "malformed_request"


def test_plan_change_down_payment_and_application_ids_are_bounded(
    client: TestClient, world: World, clerk: dict[str, str]
) -> None:
    app_id = client.post("/api/v1/applications", json=world.body(), headers=clerk).json()["application"]["id"]
    response = client.put(f"/api/v1/applications/{app_id}/plan",
                          params={"product": "EI-12", "term": 12, "down_payment": "9" * 40}, headers=clerk)
    assert response.status_code == 400 and response.json()["error"] == "amount_too_large"
    for bad in (2**63, 10**30):
        response = client.get(f"/api/v1/applications/{bad}", headers=clerk)
        assert response.status_code == 400 and response.json()["error"] == "invalid_id"
