"""Catalog: IMEI validation (Luhn via python-stdnum), dual-SIM second IMEI, the device lifecycle, SKUs
with stock, the plan menu for a SKU, and the role checks on devices."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.catalog.errors import BadDeviceTransition, DeviceNotAvailable, ImeiAlreadyRegistered, InvalidImei
from fenqi.catalog.lifecycle import ALLOWED, DeviceStatus
from fenqi.catalog.seed import demo_imei
from fenqi.catalog.service import get_device, get_sku, get_store_by_code, normalize_imei, register_device
from fenqi.catalog.stock import bind_to_loan, release_reservation, reserve_device, set_device_status
from tests.origination.world import World, imei


@pytest.mark.parametrize("raw", ["490154203237518", "49-015420-323751-8", " 356938035643809 "])
def test_valid_imeis(raw: str) -> None:
    assert normalize_imei(raw) == raw.replace("-", "").strip()


@pytest.mark.parametrize("raw", ["490154203237519", "49015420323751", "4901542032375180", "49015420323751X", ""])
def test_invalid_imeis(raw: str) -> None:
    with pytest.raises(InvalidImei) as refused:
        normalize_imei(raw)
    assert refused.value.code == "imei_invalid"


def test_demo_imeis_are_valid() -> None:
    assert all(normalize_imei(demo_imei(n)) for n in range(1000, 1100))


def test_dual_sim_device_found_by_either_imei(session: Session, shop: World) -> None:
    store = get_store_by_code(session, shop.store)
    device = register_device(session, imei=imei(900), imei2=imei(901), sku_code=shop.sku, store_id=store.id)
    assert get_device(session, imei(901)).id == device.id
    with pytest.raises(ImeiAlreadyRegistered):
        register_device(session, imei=imei(901), sku_code=shop.sku, store_id=store.id)
    with pytest.raises(InvalidImei):
        register_device(session, imei=imei(902), imei2=imei(902), sku_code=shop.sku, store_id=store.id)


def test_lifecycle_sale_lock_release(session: Session, shop: World) -> None:
    number = shop.devices[0]
    reserve_device(session, imei=number, sku_code=shop.sku, application_id=7, merchant_id=shop.merchant_id)
    with pytest.raises(DeviceNotAvailable):
        reserve_device(session, imei=number, sku_code=shop.sku, application_id=8, merchant_id=shop.merchant_id)
    bind_to_loan(session, imei=number, application_id=7, loan_id=70)
    assert (get_device(session, number).status, get_device(session, number).loan_id) == ("sold", 70)
    assert set_device_status(session, imei=number, status="locked").status == "locked"
    assert set_device_status(session, imei=number, status="sold").status == "sold"  # unlocked
    assert set_device_status(session, imei=number, status="released").status == "released"
    with pytest.raises(BadDeviceTransition):
        set_device_status(session, imei=number, status="in_stock")


def test_return_and_restock(session: Session, shop: World) -> None:
    number = shop.devices[1]
    reserve_device(session, imei=number, sku_code=shop.sku, application_id=9, merchant_id=shop.merchant_id)
    bind_to_loan(session, imei=number, application_id=9, loan_id=90)
    set_device_status(session, imei=number, status="returned")
    device = set_device_status(session, imei=number, status="in_stock")
    assert (device.status, device.loan_id, device.application_id) == ("in_stock", None, None)


def test_bare_status_change_cannot_sell(session: Session, shop: World) -> None:
    with pytest.raises(BadDeviceTransition):
        set_device_status(session, imei=shop.devices[2], status="reserved")
    reserve_device(session, imei=shop.devices[2], sku_code=shop.sku, application_id=11, merchant_id=shop.merchant_id)
    with pytest.raises(BadDeviceTransition):
        set_device_status(session, imei=shop.devices[2], status="sold")
    release_reservation(session, application_id=11)
    assert get_device(session, shop.devices[2]).status == "in_stock"


def test_every_status_has_a_rule() -> None:
    assert set(ALLOWED) == set(DeviceStatus)


def test_stock_counts_devices_on_the_shelf(session: Session, shop: World) -> None:
    assert get_sku(session, shop.sku).stock == 4
    reserve_device(session, imei=shop.devices[0], sku_code=shop.sku, application_id=1, merchant_id=shop.merchant_id)
    assert get_sku(session, shop.sku).stock == 3
    assert get_sku(session, shop.cheap_sku).stock == 0


def test_public_sku_list_and_plan_menu_for_a_sku(client: TestClient, shop: World) -> None:
    skus = client.get("/api/v1/catalog/skus", params={"brand": "apple"}).json()["skus"]
    mine = next(s for s in skus if s["code"] == shop.sku)
    assert mine["price"] == "5999.00" and mine["stock"] == 4 and mine["name"]["zh"] == "Apple iPhone 16 128GB 黑色"
    menu = client.get("/api/v1/plans", params={"sku": shop.sku}).json()
    assert menu["price"] == "5999.00" and menu["sku"]["code"] == shop.sku and menu["plans"]
    assert menu["plans"] == client.get("/api/v1/plans", params={"price": "5999.00"}).json()["plans"]
    assert client.get("/api/v1/plans", params={"sku": "NOPE"}).status_code == 404


def test_device_api_roles(client: TestClient, session: Session, shop: World,
                          auth_headers: Callable[..., dict[str, str]]) -> None:
    store = get_store_by_code(session, shop.store)
    clerk = auth_headers("clerk", shop.merchant_id)
    body = {"imei": imei(950), "imei2": imei(951), "sku": shop.sku, "store_id": store.id}
    created = client.post("/api/v1/catalog/devices", json=body, headers=clerk)
    assert created.status_code == 201 and created.json()["status"] == "in_stock"
    dup = client.post("/api/v1/catalog/devices", json=body, headers=clerk)
    assert (dup.status_code, dup.json()["error"]) == (409, "imei_registered")
    bad = client.post("/api/v1/catalog/devices", json={**body, "imei": "490154203237519", "imei2": None},
                      headers={**clerk, "Accept-Language": "en"})
    assert bad.json()["error"] == "imei_invalid" and "Luhn" in bad.json()["message"]
    stranger = auth_headers("clerk", shop.other_merchant_id)
    assert client.get(f"/api/v1/catalog/devices/{imei(950)}", headers=stranger).status_code == 403
    assert client.get(f"/api/v1/catalog/devices/{imei(951)}", headers=clerk).json()["imei"] == imei(950)
    assert client.post("/api/v1/catalog/devices", json=body).status_code == 401
    assert client.post("/api/v1/catalog/merchants", headers=clerk,
                       json={"code": "X", "name": "X", "region": "31"}).status_code == 403


def test_merchant_and_store_lists(client: TestClient, shop: World, auth_headers: Callable[..., dict[str, str]]) -> None:
    owner = auth_headers("merchant_owner", shop.merchant_id)
    mine = client.get("/api/v1/catalog/merchants", headers=owner).json()["merchants"]
    assert [m["id"] for m in mine] == [shop.merchant_id]
    everyone = client.get("/api/v1/catalog/merchants", headers=auth_headers("finance")).json()["merchants"]
    assert {shop.merchant_id, shop.other_merchant_id} <= {m["id"] for m in everyone}
    stores = client.get("/api/v1/catalog/stores", params={"merchant_id": shop.merchant_id},
                        headers=auth_headers("shopper")).json()["stores"]
    assert [s["code"] for s in stores] == [shop.store]
    assert client.get("/api/v1/catalog/stores").status_code == 401
