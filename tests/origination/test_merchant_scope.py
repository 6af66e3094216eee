"""Staff act only on their own merchant's stores, devices, applications, loans and orders.

The review's case first: a merchant-1 clerk sold an IMEI in stock at merchant 2's store (the device
was reserved). Then a matrix: every staff endpoint and console page that takes a store, device,
application, loan or order id, asked by staff of the other merchant (refused, nothing changed) and by
the owner's staff (allowed), on the real ASGI app.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_device, get_store_by_code, register_device
from tests.origination.world import World, clean_id_number, imei

Headers = Callable[..., dict[str, str]]
SIGN = {"consent_version": "e-contract-2026.1", "channel": "alipay"}


@pytest.fixture()
def theirs(session: Session, world: World) -> list[str]:
    """Two phones on the shelf of merchant 2's store."""
    store = get_store_by_code(session, world.other_store)
    return [register_device(session, imei=imei(900_000 + 2 * i), imei2=None, sku_code=world.sku,
                            store_id=store.id).imei for i in range(2)]


def _apply(client: TestClient, world: World, headers: dict[str, str], **overrides: Any) -> Any:
    return client.post("/api/v1/applications", json=world.body(**overrides), headers=headers)


def test_a_clerk_cannot_sell_a_phone_stocked_by_another_merchant(
    client: TestClient, session: Session, world: World, clerk: dict[str, str], theirs: list[str]
) -> None:
    r = _apply(client, world, clerk, imei=theirs[0])
    assert (r.status_code, r.json()["error"]) == (403, "imei_other_merchant"), r.text
    assert get_device(session, theirs[0]).status == "in_stock"
    # Nor by scanning it at signing, in place of the phone reserved from the clerk's own shelf.
    ok = _apply(client, world, clerk, imei=world.devices[0])
    assert ok.status_code == 201, ok.text
    app_id = ok.json()["application"]["id"]
    doc = client.post(f"/api/v1/applications/{app_id}/contract", headers=clerk).json()
    r = client.post(f"/api/v1/applications/{app_id}/sign", headers=clerk,
                    json={**SIGN, "contract_sha256": doc["sha256"], "imei": theirs[1]})
    assert (r.status_code, r.json()["error"]) == (403, "imei_other_merchant"), r.text
    assert get_device(session, theirs[1]).status == "in_stock"
    assert get_device(session, world.devices[0]).status == "reserved"
    # An online shopper picking up at merchant 1's store is sold merchant 1's phones only, too.
    r = _apply(client, world, _shopper_headers(session), imei=theirs[0])
    assert (r.status_code, r.json()["error"]) == (403, "imei_other_merchant")


def _shopper_headers(session: Session) -> dict[str, str]:
    from fenqi.identity.service import create_api_key, create_user

    user = create_user(session, role="shopper", display_name="顾客")
    return {"Authorization": f"Bearer {create_api_key(session, user, name='t')[1]}"}


def test_staff_of_another_merchant_are_refused_everywhere(
    client: TestClient, session: Session, world: World, auth_headers: Headers, theirs: list[str]
) -> None:
    own_clerk, own_owner = auth_headers("clerk", world.other_merchant_id), auth_headers(
        "merchant_owner", world.other_merchant_id)
    clerk, owner = auth_headers("clerk", world.merchant_id), auth_headers("merchant_owner", world.merchant_id)
    # Merchant 2 sells one of its phones; the loan, order and application are merchant 2's.
    body = {"store": world.other_store, "imei": theirs[0],
            "id_number": clean_id_number(date(1979, 5, 4)), "phone": "13700001111"}
    app_id = _apply(client, world, own_clerk, **body).json()["application"]["id"]
    doc = client.post(f"/api/v1/applications/{app_id}/contract", headers=own_clerk).json()
    signed = client.post(f"/api/v1/applications/{app_id}/sign", headers=own_clerk,
                         json={**SIGN, "contract_sha256": doc["sha256"], "imei": theirs[0]})
    assert signed.status_code == 200, signed.text
    loan_id, order_no = signed.json()["loan_id"], signed.json()["down_payment_order"]["out_trade_no"]
    store_id = get_store_by_code(session, world.other_store).id
    a = f"/api/v1/applications/{app_id}"
    # (method, path, json, who-of-merchant-1, expected status for them, expected status for merchant 2)
    matrix: list[tuple[str, str, Any, dict[str, str], int, int]] = [
        ("POST", "/api/v1/applications", {**world.body(**body), "store": world.other_store,
                                          "id_number": clean_id_number(date(1977, 2, 3))}, clerk, 403, 0),
        ("GET", a, None, clerk, 403, 200),
        ("GET", a, None, owner, 403, 200),
        ("GET", f"{a}/offer", None, clerk, 403, 0),
        ("PUT", f"{a}/plan?product=EI-12&term=12", None, clerk, 403, 0),
        ("POST", f"{a}/contract", None, clerk, 403, 0),
        ("GET", f"{a}/contract.pdf", None, owner, 403, 200),
        ("POST", f"{a}/sign", {**SIGN, "contract_sha256": doc["sha256"], "imei": theirs[0]}, clerk, 403, 0),
        ("POST", f"{a}/cancel", None, clerk, 403, 0),
        ("GET", f"{a}/consents", None, owner, 403, 200),
        ("GET", f"/api/v1/catalog/devices/{theirs[1]}", None, clerk, 403, 200),
        ("POST", f"/api/v1/catalog/devices/{theirs[1]}/status", {"status": "locked"}, owner, 403, 0),
        ("POST", "/api/v1/catalog/devices", {"imei": imei(910_000), "sku": world.sku, "store_id": store_id},
         clerk, 403, 0),
        ("GET", f"/api/v1/merchants/{world.other_merchant_id}/statement?from=2026-11-01&to=2026-11-30",
         None, owner, 403, 200),
        ("POST", "/api/v1/payments/orders", {"purpose": "installment", "channel": "alipay", "loan_id": loan_id},
         clerk, 403, 0),
        ("POST", "/api/v1/payments/orders", {"purpose": "down_payment", "channel": "alipay",
                                             "application_id": app_id}, clerk, 403, 0),
        ("GET", f"/api/v1/payments/orders/{order_no}", None, clerk, 404, 200),
        ("POST", "/api/v1/payments/agreements", {"loan_id": loan_id, "channel": "alipay"}, owner, 403, 0),
        ("GET", f"/merchant/applications/{app_id}", None, clerk, 403, 200),
    ]
    for method, path, json, who, refused, allowed in matrix:
        r = client.request(method, path, json=json, headers=who)
        assert r.status_code == refused, (method, path, r.status_code, r.text[:300])
        if allowed:
            mine = own_owner if who is owner else own_clerk
            r = client.request(method, path, json=json, headers=mine)
            assert r.status_code == allowed, (method, path, "own merchant", r.status_code, r.text[:300])
    assert get_device(session, theirs[1]).status == "in_stock"
    assert client.get(a, headers=own_clerk).json()["status"] == "signed"
    # Lists show only the caller's merchant.
    listed = client.get("/api/v1/applications", headers=clerk).json()["applications"]
    assert app_id not in {x["id"] for x in listed}
    assert [m["id"] for m in client.get("/api/v1/catalog/merchants", headers=owner).json()["merchants"]] == [
        world.merchant_id]
    # The merchant console is always the signed-in staff's own merchant, whatever the query says.
    page = client.get(f"/merchant/applications?merchant={world.other_merchant_id}", headers=clerk).text
    assert f"/merchant/applications/{app_id}\"" not in page
