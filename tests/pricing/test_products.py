"""Installment products as data: listed publicly, created only by an admin, validated like a quote."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.pricing.models import Product
from fenqi.pricing.service import DEMO_PRODUCTS, seed_products

NEW = {
    "code": "EI-15", "name_zh": "等额本息 年化15%", "name_en": "Equal installment 15%", "method": "equal-installment",
    "terms": [6, 12], "annual_rate": "0.15", "down_payment_min_pct": "0.1", "financed_min": "500",
    "financed_max": "20000", "late_fee": "20.00",
}


def test_demo_products_cover_every_method(session: Session, client: TestClient) -> None:
    seed_products(session)
    seed_products(session)  # seeding twice adds nothing
    assert session.scalar(select(func.count()).select_from(Product)) == len(DEMO_PRODUCTS)
    body = client.get("/api/v1/products").json()
    assert {p["method"] for p in body["products"]} == {
        "equal-installment", "equal-principal", "flat-fee", "interest-free"
    }
    interest_free = next(p for p in body["products"] if p["method"] == "interest-free")
    assert interest_free["cost_bearer"] == "merchant" and interest_free["funder_rate"] == "0.0800"


def test_admin_creates_and_deactivates_a_product(
    client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    admin = auth_headers("admin")
    created = client.post("/api/v1/products", json=NEW, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["financed_max"] == "20000.00" and created.json()["late_fee"] == "20.00"
    assert client.post("/api/v1/products", json=NEW, headers=admin).json()["error"] == "conflict"
    plans = client.get("/api/v1/plans", params={"price": "3000"}).json()["plans"]
    assert any(p["product"] == "EI-15" for p in plans)
    assert client.post("/api/v1/products/EI-15/deactivate", headers=admin).json()["active"] is False
    plans = client.get("/api/v1/plans", params={"price": "3000"}).json()["plans"]
    assert not any(p["product"] == "EI-15" for p in plans)


def test_only_an_admin_may_create(client: TestClient, auth_headers: Callable[..., dict[str, str]]) -> None:
    assert client.post("/api/v1/products", json=NEW).status_code == 401
    assert client.post("/api/v1/products", json=NEW, headers=auth_headers("clerk")).status_code == 403


def test_bad_products_are_refused_and_nothing_is_stored(
    client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    admin = auth_headers("admin")
    cases = [
        ({"annual_rate": "0.36"}, "apr_above_cap"),
        ({"method": "flat-fee", "annual_rate": "0", "fee_rate": "0.03"}, "apr_above_cap"),
        ({"method": "balloon"}, "unknown_method"),
        ({"terms": [0]}, "invalid_term"),
        ({"financed_min": "-1"}, "invalid_input"),
        ({"financed_max": "100.001"}, "amount_finer_than_fen"),
        ({"down_payment_min_pct": "0.5", "down_payment_max_pct": "0.2"}, "invalid_input"),
        ({"method": "interest-free", "annual_rate": "0"}, "invalid_input"),  # must be borne by the merchant
    ]
    for override, code in cases:
        response = client.post("/api/v1/products", json={**NEW, **override}, headers=admin)
        assert response.status_code in (400, 422) and response.json()["error"] == code, (override, response.text)
    assert session.scalar(select(func.count()).select_from(Product).where(Product.code == "EI-15")) == 0
