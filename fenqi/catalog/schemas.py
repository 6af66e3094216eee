"""Catalog's JSON shapes: what the endpoints send (amounts in yuan strings, rates as fraction strings)."""

from __future__ import annotations

from fenqi.kit.schemas import Bilingual, Money, Out, Rate
from fenqi.pricing.schemas import PlanOut


class SkuOut(Out):
    code: str
    brand: str
    model: str
    storage_gb: int
    colour: Bilingual
    name: Bilingual
    price: Money
    stock: int


class SkuList(Out):
    skus: list[SkuOut]


class PlanMenu(Out):
    """The plan menu for a price (and the SKU whose price it is, when asked by SKU)."""

    price: Money
    plans: list[PlanOut]
    sku: SkuOut | None = None


class MerchantOut(Out):
    id: int
    code: str
    name: str
    region: str
    fee_rate: Rate
    status: str


class MerchantCreated(Out):
    id: int
    code: str
    name: str
    region: str
    fee_rate: Rate


class MerchantList(Out):
    merchants: list[MerchantOut]


class StoreOut(Out):
    id: int
    code: str
    merchant_id: int
    name: str
    city: str
    address: str


class StoreCreated(Out):
    id: int
    code: str
    merchant_id: int
    name: str
    city: str


class StoreList(Out):
    stores: list[StoreOut]


class PhoneModelOut(Out):
    id: int
    code: str
    brand: str
    name: str


class DeviceOut(Out):
    imei: str
    imei2: str | None
    status: str
    sku: str | None
    store_id: int
    application_id: int | None
    loan_id: int | None
