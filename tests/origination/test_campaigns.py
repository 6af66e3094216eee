"""Campaigns (活动) at the till: a campaign's plan takes the merchant's subsidy from its budget, the
budget stops the campaign when spent, an unsigned application gives its part back — and two sales
can never both spend the last of it (50 at once on PostgreSQL)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from fenqi.catalog.service import create_merchant
from fenqi.kit.db import make_engine
from fenqi.kit.migrate import upgrade
from fenqi.origination.models import Application
from fenqi.pricing.service import seed_products
from fenqi.promotions import service as promotions
from fenqi.promotions.errors import CampaignBudgetSpent
from fenqi.promotions.models import Campaign, CampaignSpend
from fenqi.promotions.schemas import CampaignIn
from tests.origination.world import TODAY, World, clean_id_number

Headers = Callable[..., dict[str, str]]


def campaign(world: World, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "SPRING-0", "name_zh": "春季免息", "name_en": "Spring interest-free", "product_code": "IF-MERCHANT",
        "starts_on": (TODAY - timedelta(days=1)).isoformat(), "ends_on": (TODAY + timedelta(days=30)).isoformat(),
        "sku_codes": [world.sku], "terms": [6, 12], "budget": "100.00",
    }
    return {**body, **changes}


def apply(client: TestClient, world: World, clerk: dict[str, str], n: int, **changes: Any) -> Any:
    fields: dict[str, Any] = {"product": "IF-MERCHANT", "term": 12, "phone": f"1391234{n:04d}",
                              "id_number": clean_id_number(date(1985, 1, 1 + n)), **changes}
    body = world.body(**fields)
    return client.post("/api/v1/applications", json=body, headers=clerk)


def test_budget_taken_by_approval_given_back_on_cancel_and_refused_when_spent(
    client: TestClient, session: Session, world: World, clerk: dict[str, str], auth_headers: Headers
) -> None:
    owner = auth_headers("merchant_owner", world.merchant_id)
    first = apply(client, world, clerk, 1)
    assert first.status_code == 201, first.text  # no campaign yet: the product sells as before
    subsidy = session.get(Application, first.json()["application"]["id"]).subsidy_fen  # type: ignore[union-attr]
    assert subsidy > 0
    client.post(f"/api/v1/applications/{first.json()['application']['id']}/cancel", headers=clerk)

    budget = subsidy * 3 // 2  # room for one sale, not two
    made = client.post("/api/v1/campaigns", json=campaign(world, budget=f"{budget / 100:.2f}"), headers=owner)
    assert made.status_code == 201, made.text
    assert made.json()["merchant_id"] == world.merchant_id

    one = apply(client, world, clerk, 2)
    assert one.status_code == 201, one.text
    state = client.get("/api/v1/campaigns/SPRING-0", headers=owner).json()
    assert (state["sales"], state["spent"]) == (1, f"{subsidy / 100:.2f}")

    two = apply(client, world, clerk, 3)
    assert two.status_code == 409 and two.json()["error"] == "campaign_budget_spent"
    assert "春季免息" in two.json()["message"] and "预算已用完" in two.json()["message"]
    assert two.json()["application"]["status"] == "unfunded"
    assert client.get("/api/v1/campaigns/SPRING-0", headers=owner).json()["sales"] == 1

    cancelled = client.post(f"/api/v1/applications/{one.json()['application']['id']}/cancel", headers=clerk)
    assert cancelled.status_code in (200, 204), cancelled.text
    assert client.get("/api/v1/campaigns/SPRING-0", headers=owner).json()["spent"] == "0.00"
    three = apply(client, world, clerk, 4)
    assert three.status_code == 201, three.text
    spend = session.scalar(select(CampaignSpend).where(
        CampaignSpend.application_id == three.json()["application"]["id"]))
    assert spend is not None and (spend.status, spend.subsidy_fen) == ("reserved", subsidy)


def test_outside_the_campaign_the_plan_is_refused_and_other_plans_sell(
    client: TestClient, world: World, clerk: dict[str, str], auth_headers: Headers
) -> None:
    owner = auth_headers("merchant_owner", world.merchant_id)
    assert client.post("/api/v1/campaigns", json=campaign(world, terms=[12]), headers=owner).status_code == 201
    off_term = apply(client, world, clerk, 5, term=6)
    assert off_term.status_code == 409 and off_term.json()["error"] == "campaign_unavailable"
    other_plan = apply(client, world, clerk, 6, product="EI-12", term=6)
    assert other_plan.status_code == 201, other_plan.text
    stopped = client.post("/api/v1/campaigns/SPRING-0/stop", headers=owner)
    assert stopped.json()["status"] == "stopped"
    assert apply(client, world, clerk, 7).json()["error"] == "campaign_unavailable"


def test_campaigns_are_their_merchants_and_checked(
    client: TestClient, world: World, auth_headers: Headers
) -> None:
    owner = auth_headers("merchant_owner", world.merchant_id)
    other = auth_headers("merchant_owner", world.other_merchant_id)
    assert client.post("/api/v1/campaigns", json=campaign(world), headers=auth_headers("clerk", world.merchant_id)
                       ).status_code == 403
    assert client.post("/api/v1/campaigns", json=campaign(world)).status_code == 401
    assert client.post("/api/v1/campaigns", json=campaign(world), headers=owner).status_code == 201
    assert client.get("/api/v1/campaigns/SPRING-0", headers=other).status_code == 403
    assert client.post("/api/v1/campaigns/SPRING-0/stop", headers=other).status_code == 403
    assert client.get("/api/v1/campaigns", headers=other).json()["items"] == []
    bad = {
        "ends before it starts": campaign(world, code="B1", ends_on=(TODAY - timedelta(days=5)).isoformat()),
        "a term the product lacks": campaign(world, code="B2", terms=[24]),
        "not a subsidy product": campaign(world, code="B3", product_code="EI-12"),
        "another merchant's store": campaign(world, code="B4", store_ids=[10**12]),
        "the same code": campaign(world),
    }
    for why, body in bad.items():
        answer = client.post("/api/v1/campaigns", json=body, headers=owner)
        assert answer.status_code == 400, why
        assert "活动设置有误" in answer.json()["message"], why
        # the Chinese message says why in Chinese, the English one in English
        assert not re.search(r"[a-z]{3,}", answer.json()["message"]), (why, answer.json()["message"])
        english = client.post("/api/v1/campaigns", json=body, headers={**owner, "Accept-Language": "en"})
        assert english.json()["message"].startswith("Invalid campaign: "), english.json()
        assert not re.search(r"[\u4e00-\u9fff]", english.json()["message"]), (why, english.json()["message"])
    for budget in ("0.00", "-1", "abc", "1e400", "12345678901234567890.00", True):
        answer = client.post("/api/v1/campaigns", json=campaign(world, code="B5", budget=budget), headers=owner)
        assert answer.status_code in (400, 422), budget


@pytest.mark.skipif("postgresql" not in os.environ.get("FENQI_TEST_DATABASE_URL", ""),
                    reason="real concurrency needs PostgreSQL")
def test_fifty_concurrent_sales_never_overspend_the_budget() -> None:
    url = os.environ["FENQI_TEST_DATABASE_URL"]
    base, name = url.rsplit("/", 1)
    scratch = f"{name}_campaign_{os.getpid()}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        upgrade(f"{base}/{scratch}")
        engine = make_engine(f"{base}/{scratch}")
        with Session(engine) as s, s.begin():
            seed_products(s)
            merchant = create_merchant(s, code="CM", name="并发数码", region="31", fee_rate=0)  # type: ignore[arg-type]
            promotions.create_campaign(s, CampaignIn(
                code="RACE", name_zh="抢购", name_en="Race", product_code="IF-MERCHANT", starts_on=TODAY,
                ends_on=TODAY, budget="1000.00"), merchant_id=merchant.id)
            merchant_id = merchant.id
        # ¥37 a sale: 27 fit in ¥1,000, 23 must be refused.
        subsidy, wins, refusals, errors = 3_700, [], [], []  # type: ignore[var-annotated]
        gate = threading.Barrier(50)

        def sale(i: int) -> None:
            with Session(engine) as s:
                gate.wait()
                try:
                    with s.begin():
                        promotions.charge(s, application_id=1_000 + i, merchant_id=merchant_id,
                                          product_code="IF-MERCHANT", sku_code="ANY", store_id=1, term=12, on=TODAY,
                                          subsidy_fen=subsidy)
                    wins.append(i)
                except CampaignBudgetSpent:
                    refusals.append(i)
                except Exception as exc:
                    errors.append(repr(exc))

        threads = [threading.Thread(target=sale, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with Session(engine) as s:
            row = s.scalar(select(Campaign).where(Campaign.code == "RACE"))
            assert row is not None
            spends = s.scalars(select(CampaignSpend)).all()
        assert errors == []
        assert (len(wins), len(refusals)) == (100_000 // subsidy, 50 - 100_000 // subsidy)
        assert row.spent_fen == len(wins) * subsidy <= row.budget_fen
        assert row.sales == len(wins) == len(spends)
        assert sum(x.subsidy_fen for x in spends) == row.spent_fen
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def test_the_owner_starts_and_stops_a_campaign_on_the_console_page(
    client: TestClient, world: World, auth_headers: Headers
) -> None:
    owner = {**auth_headers("merchant_owner", world.merchant_id), "Accept": "text/html"}
    page = client.get("/merchant/campaigns", headers=owner)
    assert page.status_code == 200 and "还没有活动" in page.text and 'id="new-campaign"' in page.text
    form = {"name_zh": "国庆免息", "code": "NATIONAL-1", "product_code": "IF-MERCHANT", "terms": ["12"],
            "starts_on": TODAY.isoformat(), "ends_on": (TODAY + timedelta(days=7)).isoformat(),
            "budget": "5,000.00"}
    made = client.post("/merchant/campaigns", data=form, headers=owner, follow_redirects=False)
    assert made.status_code == 303, made.text
    page = client.get("/merchant/campaigns", headers=owner)
    assert "国庆免息" in page.text and "¥5,000.00" in page.text and "进行中" in page.text
    assert "IF-MERCHANT" not in page.text.split('id="campaigns"')[1].split("</table>")[0]  # the plan's name
    again = client.post("/merchant/campaigns", data={**form, "budget": "五千"}, headers=owner)
    assert again.status_code == 400 and "预算须为金额" in again.text
    clash = client.post("/merchant/campaigns", data=form, headers=owner)
    assert clash.status_code == 400 and "已存在" in clash.text
    stopped = client.post("/merchant/campaigns/NATIONAL-1/stop", headers=owner, follow_redirects=False)
    assert stopped.status_code == 303
    assert "已停止" in client.get("/merchant/campaigns", headers=owner).text
    clerk = {**auth_headers("clerk", world.merchant_id), "Accept": "text/html"}
    assert 'id="new-campaign"' not in client.get("/merchant/campaigns", headers=clerk).text
    assert client.post("/merchant/campaigns", data=form, headers=clerk).status_code == 403
    other = {**auth_headers("merchant_owner", world.other_merchant_id), "Accept": "text/html"}
    assert "国庆免息" not in client.get("/merchant/campaigns", headers=other).text
    assert client.post("/merchant/campaigns/NATIONAL-1/stop", headers=other).status_code == 403
