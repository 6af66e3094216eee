"""HTTP: the catalog (public for browsing SKUs), merchants and stores (staff), devices by IMEI; and the plan
menu (`GET /api/v1/plans`, public), served here because asked by SKU it answers with a catalog phone
(pricing, below catalog, imports none)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from fenqi.catalog.models import Merchant, Store
from fenqi.catalog.schemas import (
    DeviceOut,
    MerchantCreated,
    MerchantList,
    PhoneModelOut,
    PlanMenu,
    SkuList,
    SkuOut,
    StoreCreated,
    StoreList,
)
from fenqi.catalog.service import (
    create_merchant,
    create_model,
    create_sku,
    create_store,
    get_device,
    get_sku,
    get_store,
    list_skus,
    register_device,
)
from fenqi.catalog.stock import device_json, set_device_status
from fenqi.identity.deps import Principal, ensure_merchant, require_roles
from fenqi.identity.roles import MERCHANT_ROLES
from fenqi.kit.bounds import Amount, EntityId
from fenqi.kit.money import fmt_rate, fmt_yuan, from_fen, parse_rate, to_fen
from fenqi.kit.web import SessionDep
from fenqi.pricing.errors import InvalidPrice
from fenqi.pricing.service import menu_for_price

catalog_router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])
# The plan menu answers outside the catalog's prefix, and /docs lists it with pricing's operations (the menu is
# pricing's; only its SKU is catalog's).
plans_router = APIRouter(prefix="/api/v1", tags=["pricing"])


class MerchantIn(BaseModel):
    code: str = Field(max_length=40)
    name: str = Field(max_length=120)
    region: str = Field(max_length=8, description="Province code, two digits (\"31\" Shanghai)")
    fee_rate: str = Field("0.02", description="Platform fee as a fraction of the financed amount")


class StoreIn(BaseModel):
    merchant_id: EntityId
    code: str = Field(max_length=40)
    name: str = Field(max_length=120)
    city: str = Field(max_length=40)
    address: str = Field("", max_length=200)


class ModelIn(BaseModel):
    code: str = Field(max_length=40)
    brand: str = Field(max_length=40)
    name: str = Field(max_length=80)


class SkuIn(BaseModel):
    model: str
    code: str = Field(max_length=60)
    storage_gb: int = Field(ge=1, le=65_536)
    colour_zh: str = Field(max_length=40)
    colour_en: str = Field(max_length=40)
    price: Amount = Field(description="Yuan, e.g. \"5999.00\"")


class DeviceIn(BaseModel):
    imei: str
    imei2: str | None = None
    sku: str
    store_id: EntityId


class StatusIn(BaseModel):
    status: str = Field(description="in_stock | reserved | sold | returned | locked | released")


@catalog_router.get("/skus", response_model=SkuList,
                    summary="Phones on sale: brand, model, storage, colour, price, stock")
def skus(brand: str | None = Query(None), *, session: SessionDep) -> dict[str, Any]:
    return {"skus": [s.to_json() for s in list_skus(session, brand)]}


@catalog_router.get("/skus/{code}", response_model=SkuOut, summary="One SKU")
def sku(code: str, session: SessionDep) -> dict[str, Any]:
    return get_sku(session, code).to_json()


@catalog_router.get("/merchants", response_model=MerchantList,
                    summary="Merchants (a merchant's own staff see only theirs)")
def merchants(
    session: SessionDep,
    who: Principal = Depends(require_roles("merchant_owner", "clerk", "finance", "risk_officer")),
) -> dict[str, Any]:
    rows = session.scalars(select(Merchant).order_by(Merchant.code))
    return {"merchants": [
        {"id": m.id, "code": m.code, "name": m.name, "region": m.region, "fee_rate": fmt_rate(m.fee_rate),
         "status": m.status}
        for m in rows if who.role not in MERCHANT_ROLES or m.id == who.merchant_id
    ]}


@catalog_router.get("/stores", response_model=StoreList, summary="Stores, optionally of one merchant")
def stores(
    merchant_id: EntityId | None = Query(None), *, session: SessionDep,
    _: Principal = Depends(require_roles("shopper", "clerk", "merchant_owner", "finance", "risk_officer")),
) -> dict[str, Any]:
    query = select(Store).order_by(Store.code)
    if merchant_id is not None:
        query = query.where(Store.merchant_id == merchant_id)
    return {"stores": [
        {"id": s.id, "code": s.code, "merchant_id": s.merchant_id, "name": s.name, "city": s.city,
         "address": s.address}
        for s in session.scalars(query)
    ]}


@catalog_router.post("/merchants", response_model=MerchantCreated, status_code=201, summary="Add a merchant")
def add_merchant(
    body: MerchantIn, session: SessionDep, _: Principal = Depends(require_roles("admin"))
) -> dict[str, Any]:
    m = create_merchant(session, code=body.code, name=body.name, region=body.region,
                        fee_rate=parse_rate(body.fee_rate, field="fee_rate"))
    return {"id": m.id, "code": m.code, "name": m.name, "region": m.region, "fee_rate": fmt_rate(m.fee_rate)}


@catalog_router.post("/stores", response_model=StoreCreated, status_code=201, summary="Add a store")
def add_store(
    body: StoreIn, session: SessionDep,
    who: Principal = Depends(require_roles("merchant_owner")),
) -> dict[str, Any]:
    ensure_merchant(who, body.merchant_id)
    s = create_store(session, merchant_id=body.merchant_id, code=body.code, name=body.name, city=body.city,
                     address=body.address)
    return {"id": s.id, "code": s.code, "merchant_id": s.merchant_id, "name": s.name, "city": s.city}


@catalog_router.post("/models", response_model=PhoneModelOut, status_code=201, summary="Add a phone model")
def add_model(
    body: ModelIn, session: SessionDep, _: Principal = Depends(require_roles("admin"))
) -> dict[str, Any]:
    m = create_model(session, code=body.code, brand=body.brand, name=body.name)
    return {"id": m.id, "code": m.code, "brand": m.brand, "name": m.name}


@catalog_router.post("/skus", response_model=SkuOut, status_code=201, summary="Add a SKU")
def add_sku(
    body: SkuIn, session: SessionDep, _: Principal = Depends(require_roles("admin"))
) -> dict[str, Any]:
    price = body.price
    if price <= Decimal(0):
        raise InvalidPrice()
    create_sku(session, model_code=body.model, code=body.code, storage_gb=body.storage_gb, colour_zh=body.colour_zh,
               colour_en=body.colour_en, price_fen=to_fen(price))
    return get_sku(session, body.code).to_json()


@catalog_router.post(
    "/devices", response_model=DeviceOut, status_code=201,
    summary="Register a phone by IMEI (Luhn-checked; second IMEI optional)",
)
def add_device(
    body: DeviceIn, session: SessionDep,
    who: Principal = Depends(require_roles("clerk", "merchant_owner")),
) -> dict[str, Any]:
    ensure_merchant(who, get_store(session, body.store_id).merchant_id)
    device = register_device(session, imei=body.imei, imei2=body.imei2, sku_code=body.sku, store_id=body.store_id)
    return device_json(session, device)


@catalog_router.get("/devices/{imei}", response_model=DeviceOut, summary="A device by either of its IMEIs")
def device(
    imei: str, session: SessionDep,
    who: Principal = Depends(require_roles("clerk", "merchant_owner", "collector", "risk_officer")),
) -> dict[str, Any]:
    found = get_device(session, imei)
    ensure_merchant(who, get_store(session, found.store_id).merchant_id)
    return device_json(session, found)


@catalog_router.post(
    "/devices/{imei}/status", response_model=DeviceOut,
    summary="Move a device in its lifecycle (lock, unlock, return, restock)",
)
def device_status(
    imei: str, body: StatusIn, session: SessionDep,
    who: Principal = Depends(require_roles("collector", "merchant_owner")),
) -> dict[str, Any]:
    found = get_device(session, imei)
    ensure_merchant(who, get_store(session, found.store_id).merchant_id)
    return device_json(session, set_device_status(session, imei=imei, status=body.status))


@plans_router.get(
    "/plans", response_model=PlanMenu, response_model_exclude_unset=True,
    summary="The plan menu for a price: every product × term with APR",
)
def list_plans(
    price: Amount | None = Query(None, description="Price in yuan, e.g. 5999.00 (or give sku)"),
    down_payment: Amount | None = Query(None, description="Optional down payment in yuan"),
    sku: str | None = Query(None, description="A catalog SKU code: its price is used"),
    *, session: SessionDep,
) -> dict[str, Any]:
    item = None if sku is None else get_sku(session, sku)
    if item is not None:
        price = from_fen(item.price_fen)
    if price is None or price <= 0:
        raise InvalidPrice()
    options = menu_for_price(session, price, down_payment)
    body: dict[str, Any] = {"price": fmt_yuan(price), "plans": [o.to_json() for o in options]}
    if item is not None:
        body["sku"] = item.to_json()
    return body


# What the app factory includes: the plan menu first (so it follows pricing's routes), then the catalog's.
router = APIRouter()
router.include_router(plans_router)
router.include_router(catalog_router)
