"""The REST API of decisions a person can act on: a decline's suggestions (tried, not recorded) and taking
one; none when nothing would pass; a risk officer's counter-offer, refused outside the limit or the
grade's plans, approved within them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.funding.service import add_product, create_funder
from fenqi.risk.models import RiskDecision
from tests.origination.world import ALL_METHODS, World

Headers = Callable[..., dict[str, str]]


def _decisions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RiskDecision)) or 0


def test_a_declined_application_lists_plans_that_pass_and_one_is_taken(
    client: TestClient, session: Session, world: World, clerk: dict[str, str]
) -> None:
    r = client.post("/api/v1/applications", headers=clerk, json=world.body(
        imei=world.devices[0], profile={"monthly_income": "700.00"}))
    assert r.status_code == 422 and r.json()["error"] == "installment_to_income", r.text
    app_id = r.json()["application"]["id"]
    before = _decisions(session)
    listed = client.get(f"/api/v1/applications/{app_id}/suggestions", headers=clerk)
    assert listed.status_code == 200, listed.text
    found = {s["kind"]: s for s in listed.json()["suggestions"]}
    assert found["down_payment"]["down_payment"] == "3600.00" and found["down_payment"]["term"] == 12
    assert Decimal(found["down_payment"]["financed"]) == Decimal("2399.00")
    assert _decisions(session) == before  # the trials are not decisions
    taken = client.post(f"/api/v1/applications/{app_id}/suggestions", headers=clerk,
                        json={"key": found["down_payment"]["key"]})
    assert taken.status_code == 201, taken.text
    new = taken.json()["application"]
    assert new["id"] != app_id and new["status"] == "approved" and new["plan"]["down_payment"] == "3600.00"
    assert new["imei"] == world.devices[0]  # the same phone, still on the counter


def test_nothing_suggested_when_nothing_would_pass(
    client: TestClient, world: World, clerk: dict[str, str]
) -> None:
    r = client.post("/api/v1/applications", headers=clerk, json=world.body(
        profile={"employment": "student", "is_full_time_student": True}))
    assert r.status_code == 422 and r.json()["error"] == "full_time_student"
    app_id = r.json()["application"]["id"]
    assert client.get(f"/api/v1/applications/{app_id}/suggestions", headers=clerk).json()["suggestions"] == []
    forged = client.post(f"/api/v1/applications/{app_id}/suggestions", headers=clerk,
                         json={"key": f"term|{world.sku}|EI-12|24|100000"})
    assert forged.status_code == 409 and forged.json()["error"] == "suggestion_unavailable"


def test_a_counter_offer_within_the_limit_and_the_grades_plans(
    client: TestClient, session: Session, world: World, clerk: dict[str, str], auth_headers: Headers
) -> None:
    create_funder(session, code="FE", name="丙消费金融", kind="consumer_finance", daily_quota_fen=2_000_000,
                  monthly_quota_fen=20_000_000, priority=3)
    add_product(session, funder_code="FE", methods=ALL_METHODS, terms=[3, 6, 12, 24], annual_rate=Decimal("0.10"),
                min_grade="E")
    r = client.post("/api/v1/applications", headers=clerk, json=world.body(profile={
        "bank_account": "low_balance", "savings": "none", "assets": "none", "housing": "rent",
        "employment_years": 1, "residence_years": 1}))
    assert r.status_code == 202 and r.json()["application"]["decision"]["grade"] == "E", r.text
    app_id = r.json()["application"]["id"]
    officer = auth_headers("risk_officer")
    url = f"/api/v1/applications/{app_id}/counter-offer"
    over = client.post(url, headers=officer, json={"product": "EI-12", "term": 6, "down_payment": "600.00",
                                                   "note": "调整方案"})
    assert over.status_code == 422 and over.json()["error"] == "counter_offer_above_limit"
    assert "5,399.00" in over.json()["message"] and "5,000.00" in over.json()["message"]
    longer = client.post(url, headers=officer, json={"product": "EI-12", "term": 12, "down_payment": "2000.00",
                                                     "note": "调整方案"})
    assert longer.status_code == 422 and longer.json()["error"] == "counter_offer_not_allowed"
    assert client.post(url, headers=clerk, json={"product": "EI-12", "term": 6, "note": "x"}).status_code == 403
    assert client.get(f"/api/v1/applications/{app_id}", headers=clerk).json()["status"] == "referred"
    ok = client.post(url, headers=officer, json={"product": "EI-12", "term": 6, "down_payment": "2000.00",
                                                 "note": "提高首付、缩短期限"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "approved" and ok.json()["plan"]["term"] == 6 and ok.json()["funder"] == "FE"
    assert ok.json()["plan"]["financed"] == "3999.00"
    again = client.post(url, headers=officer, json={"product": "EI-12", "term": 3, "note": "再改"})
    assert again.status_code == 409
