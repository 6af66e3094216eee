"""Catalog service: merchants, stores, models, SKUs, and devices registered and found by IMEI (their way
from the shelf to a loan and back is `catalog.stock`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from stdnum import imei as stdnum_imei
from stdnum.exceptions import ValidationError

from fenqi.catalog.errors import (
    ImeiAlreadyRegistered,
    InvalidImei,
    NotTrainingMerchant,
)
from fenqi.catalog.lifecycle import DeviceStatus
from fenqi.catalog.models import Device, Merchant, PhoneModel, Sku, Store
from fenqi.kit.db import utcnow
from fenqi.kit.errors import Conflict, DomainError, InvalidInput, NotFound
from fenqi.kit.money import fmt_yuan, from_fen


def normalize_imei(raw: str) -> str:
    """15 digits with a valid Luhn check digit (python-stdnum); separators are allowed and removed."""
    try:
        number = stdnum_imei.validate(str(raw))
    except ValidationError:
        raise InvalidImei(str(raw)) from None
    # stdnum also accepts 14-digit IMEIs (no check digit) and 16-digit IMEISVs; a sale needs the full IMEI.
    if len(number) != 15:
        raise InvalidImei(str(raw))
    return number


# --- merchants and stores ----------------------------------------------------------------------


def create_merchant(session: Session, *, code: str, name: str, region: str, fee_rate: Decimal,
                    training: bool = False) -> Merchant:
    """`training`: a training merchant (培训模式), whose stores are for clerks' practice only."""
    if session.scalar(select(Merchant.id).where(Merchant.code == code)) is not None:
        raise Conflict.saying(f"商户 {code} 已存在", f"merchant {code} exists")
    if not Decimal(0) <= fee_rate < Decimal(1):
        raise InvalidInput("fee_rate", zh="商户费率应在 0 到 1 之间，例如 0.02 表示 2%",
                           en="The merchant fee rate is from 0 to 1, e.g. 0.02 for 2%")
    merchant = Merchant(code=code, name=name, region=region, fee_rate=fee_rate, training=training)
    session.add(merchant)
    session.flush()
    return merchant


def get_merchant(session: Session, merchant_id: int) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound.saying(f"商户 {merchant_id}", f"merchant {merchant_id}")
    return merchant


def is_training(session: Session, merchant_id: int | None) -> bool:
    """A training merchant's (培训模式) practice: kept out of the real books, funders, channels and reports."""
    if merchant_id is None:
        return False
    # The merchant is usually loaded already in this session (the sale's store and merchant): no query.
    loaded = session.identity_map.get(session.identity_key(Merchant, merchant_id))
    if loaded is not None and "training" in loaded.__dict__:
        return bool(loaded.training)
    return bool(session.scalar(select(Merchant.training).where(Merchant.id == merchant_id)))


def _real_stores() -> Any:
    return select(Store.id).join(Merchant, Merchant.id == Store.merchant_id).where(Merchant.training.is_(False))


def first_training_merchant_id(session: Session) -> int | None:
    found = session.scalar(select(Merchant.id).where(Merchant.training.is_(True)).order_by(Merchant.id).limit(1))
    return None if found is None else int(found)


def reset_training(session: Session, merchant_id: int) -> int:
    """A training merchant's reset: every phone of its stores back on the shelf (free of its practice
    applications and loans), and the time of the reset recorded. Returns the phones put back."""
    merchant = get_merchant(session, merchant_id)
    if not merchant.training:
        raise NotTrainingMerchant(merchant.code)
    result: Any = session.execute(
        update(Device).where(Device.store_id.in_(select(Store.id).where(Store.merchant_id == merchant_id)),
                             Device.status != DeviceStatus.IN_STOCK)
        .values(status=DeviceStatus.IN_STOCK, application_id=None, loan_id=None)
        .execution_options(synchronize_session=False))
    merchant.training_reset_at = utcnow()
    session.flush()
    return int(result.rowcount or 0)


def hb_seller_percent(session: Session, merchant_id: int | None) -> int:
    """Who pays Alipay's 花呗分期 fee at this merchant's cashier: 0 the shopper, 100 the merchant."""
    if merchant_id is None:
        return 0
    value = session.scalar(select(Merchant.hb_fq_seller_percent).where(Merchant.id == merchant_id))
    return int(value or 0)


def set_hb_seller_percent(session: Session, merchant_id: int, percent: int) -> Merchant:
    if percent not in (0, 100):
        raise InvalidInput(f"hb_fq_seller_percent {percent}: 0 or 100", zh="请选择由顾客还是商家承担花呗分期手续费",
                           en="Choose whether the shopper or the merchant pays the Huabei fee")
    merchant = get_merchant(session, merchant_id)
    merchant.hb_fq_seller_percent = percent
    session.flush()
    return merchant


@dataclass(frozen=True, slots=True)
class MerchantRef:
    id: int
    code: str
    name: str


def list_merchants(session: Session) -> list[MerchantRef]:
    """Every merchant, oldest first (a fixed order: the demo history seeds its draws on it)."""
    rows = session.execute(select(Merchant.id, Merchant.code, Merchant.name).order_by(Merchant.id))
    return [MerchantRef(int(i), code, name) for i, code, name in rows]


def first_merchant_id(session: Session) -> int | None:
    """The oldest merchant (the demo's staff work for it), None before any is created."""
    merchant_id: int | None = session.scalar(select(Merchant.id).order_by(Merchant.id).limit(1))
    return merchant_id


def get_merchant_by_code(session: Session, code: str) -> Merchant:
    merchant = session.scalar(select(Merchant).where(Merchant.code == code))
    if merchant is None:
        raise NotFound.saying(f"商户 {code}", f"merchant {code}")
    return merchant


def create_store(session: Session, *, merchant_id: int, code: str, name: str, city: str, address: str = "") -> Store:
    get_merchant(session, merchant_id)
    if session.scalar(select(Store.id).where(Store.code == code)) is not None:
        raise Conflict.saying(f"门店 {code} 已存在", f"store {code} exists")
    store = Store(merchant_id=merchant_id, code=code, name=name, city=city, address=address)
    session.add(store)
    session.flush()
    return store


def stores_of_merchant(session: Session, merchant_id: int) -> list[Store]:
    """A merchant's stores, oldest first (the till's store picker)."""
    return list(session.scalars(select(Store).where(Store.merchant_id == merchant_id).order_by(Store.id)))


@dataclass(frozen=True, slots=True)
class StoreRef:
    id: int
    code: str
    merchant_id: int


def list_stores(session: Session) -> list[StoreRef]:
    """Every store of every merchant, oldest first (a fixed order: the demo history seeds its draws on it)."""
    rows = session.execute(select(Store.id, Store.code, Store.merchant_id).order_by(Store.id))
    return [StoreRef(int(i), code, int(merchant_id)) for i, code, merchant_id in rows]


def store_names(session: Session, store_ids: Iterable[int]) -> dict[int, str]:
    """The names of these stores, by id, in one query."""
    wanted = set(store_ids)
    if not wanted:
        return {}
    return {i: name for i, name in session.execute(select(Store.id, Store.name).where(Store.id.in_(wanted)))}


def get_store(session: Session, store_id: int) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound.saying(f"门店 {store_id}", f"store {store_id}")
    return store


def store_and_merchant(session: Session, store_code: str) -> tuple[Store, Merchant]:
    """A store with its merchant, in one query (every application needs both)."""
    row = session.execute(
        select(Store, Merchant).join(Merchant, Merchant.id == Store.merchant_id).where(Store.code == store_code)
    ).first()
    if row is None:
        raise NotFound.saying(f"门店 {store_code}", f"store {store_code}")
    return row[0], row[1]


def sale_context(session: Session, store_code: str, sku_code: str) -> tuple[Store, Merchant, SkuView]:
    """The store, its merchant and the SKU of a sale in one query (stock not counted)."""
    row = session.execute(
        select(Store, Merchant, Sku, PhoneModel)
        .join(Merchant, Merchant.id == Store.merchant_id)
        .join(Sku, Sku.code == sku_code)
        .join(PhoneModel, PhoneModel.id == Sku.model_id)
        .where(Store.code == store_code, Sku.active.is_(True))
    ).first()
    if row is None:  # say which one is missing
        store_and_merchant(session, store_code)
        raise NotFound.saying(f"商品 {sku_code}", f"SKU {sku_code}")
    store, merchant, sku, model = row
    return store, merchant, _views(session, [(sku, model)], with_stock=False)[0]


def get_store_by_code(session: Session, code: str) -> Store:
    store = session.scalar(select(Store).where(Store.code == code))
    if store is None:
        raise NotFound.saying(f"门店 {code}", f"store {code}")
    return store


# --- phone models and SKUs ---------------------------------------------------------------------


def create_model(
    session: Session, *, code: str, brand: str, name: str, specs: dict[str, str] | None = None
) -> PhoneModel:
    if session.scalar(select(PhoneModel.id).where(PhoneModel.code == code)) is not None:
        raise Conflict.saying(f"机型 {code} 已存在", f"model {code} exists")
    model = PhoneModel(code=code, brand=brand, name=name, specs=specs or {})
    session.add(model)
    session.flush()
    return model


def create_sku(
    session: Session, *, model_code: str, code: str, storage_gb: int, colour_zh: str, colour_en: str, price_fen: int
) -> Sku:
    model = session.scalar(select(PhoneModel).where(PhoneModel.code == model_code))
    if model is None:
        raise NotFound.saying(f"机型 {model_code}", f"model {model_code}")
    if session.scalar(select(Sku.id).where(Sku.code == code)) is not None:
        raise Conflict.saying(f"商品 {code} 已存在", f"SKU {code} exists")
    if price_fen <= 0 or storage_gb <= 0:
        raise InvalidInput("price and storage must be positive", zh="价格和存储容量须大于 0",
                           en="The price and the storage must be above 0")
    sku = Sku(model_id=model.id, code=code, storage_gb=storage_gb, colour_zh=colour_zh, colour_en=colour_en,
              price_fen=price_fen)
    session.add(sku)
    session.flush()
    return sku


# The makers' own brand names in Chinese, as they print them on their Chinese sites and boxes.
BRAND_NAMES: dict[str, tuple[str, str]] = {
    "huawei": ("华为", "Huawei"), "xiaomi": ("小米", "Xiaomi"), "honor": ("荣耀", "Honor"),
    "samsung": ("三星", "Samsung"), "oneplus": ("一加", "OnePlus"), "realme": ("真我", "realme"),
}
# Sub-brands that name their phones on their own ("Redmi K80", not "小米 Redmi K80").
SUB_BRANDS = ("redmi",)


def phone_title(brand: str, model: str, lang: str = "zh") -> str:
    """A phone's name as the maker says it, the brand once: ("Xiaomi", "Xiaomi 15") → "小米 15" in Chinese,
    "Xiaomi 15" in English; ("Xiaomi", "Redmi K80") → "Redmi K80"; ("Huawei", "Mate 70") → "华为 Mate 70"."""
    first, _, rest = model.partition(" ")
    if first.lower() in SUB_BRANDS:
        return model
    if first.lower() == brand.lower() and rest:
        model = rest
    return f"{brand_name(brand, lang)} {model}"


def brand_name(brand: str, lang: str = "zh") -> str:
    names = BRAND_NAMES.get(brand.lower())
    return brand if names is None else names[0] if lang.startswith("zh") else names[1]


@dataclass(frozen=True, slots=True)
class SkuView:
    """A SKU with its model's names and the devices in stock: what pricing and origination need."""

    id: int
    code: str
    brand: str
    model: str
    storage_gb: int
    colour_zh: str
    colour_en: str
    price_fen: int
    stock: int

    @property
    def name_zh(self) -> str:
        return f"{phone_title(self.brand, self.model, 'zh')} {self.storage_gb}GB {self.colour_zh}"

    @property
    def name_en(self) -> str:
        return f"{phone_title(self.brand, self.model, 'en')} {self.storage_gb}GB {self.colour_en}"

    def title(self, lang: str) -> str:
        """The phone without storage and colour: "小米 15", "Xiaomi 15"."""
        return phone_title(self.brand, self.model, lang)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code, "brand": self.brand, "model": self.model, "storage_gb": self.storage_gb,
            "colour": {"zh": self.colour_zh, "en": self.colour_en},
            "name": {"zh": self.name_zh, "en": self.name_en},
            "price": fmt_yuan(from_fen(self.price_fen)), "stock": self.stock,
        }


def _stock_counts(session: Session, sku_ids: list[int], merchant_id: int | None = None) -> dict[int, int]:
    """Phones on the real shelves (never a training store's), or on one merchant's shelves."""
    shelves = _real_stores() if merchant_id is None else select(Store.id).where(Store.merchant_id == merchant_id)
    rows = session.execute(
        select(Device.sku_id, func.count()).where(Device.sku_id.in_(sku_ids), Device.status == DeviceStatus.IN_STOCK,
                                                  Device.store_id.in_(shelves))
        .group_by(Device.sku_id)
    )
    return {sku_id: count for sku_id, count in rows}


def _views(session: Session, rows: list[tuple[Sku, PhoneModel]], with_stock: bool = True,
           merchant_id: int | None = None) -> list[SkuView]:
    stock = _stock_counts(session, [sku.id for sku, _ in rows], merchant_id) if rows and with_stock else {}
    return [
        SkuView(sku.id, sku.code, model.brand, model.name, sku.storage_gb, sku.colour_zh, sku.colour_en,
                sku.price_fen, stock.get(sku.id, 0))
        for sku, model in rows
    ]


def sku_name(session: Session, code: str, lang: str) -> str:
    """The phone as a person names it: "小米 15 256GB 黑色" (the SKU code only if the SKU is gone)."""
    try:
        sku = get_sku(session, code, with_stock=False)
    except DomainError:
        return code
    return sku.name_zh if lang == "zh" else sku.name_en


def get_sku(session: Session, code: str, *, with_stock: bool = True) -> SkuView:
    """A SKU by code; `with_stock=False` skips counting the devices on the shelf (stock is then 0)."""
    row = session.execute(
        select(Sku, PhoneModel).join(PhoneModel, PhoneModel.id == Sku.model_id).where(Sku.code == code)
    ).first()
    if row is None or not row[0].active:
        raise NotFound.saying(f"商品 {code}", f"SKU {code}")
    return _views(session, [(row[0], row[1])], with_stock)[0]


def list_skus(session: Session, brand: str | None = None, *, shelves_of: int | None = None) -> list[SkuView]:
    """Active SKUs with their stock on the real shelves, or on the shelves of merchant `shelves_of`."""
    query = select(Sku, PhoneModel).join(PhoneModel, PhoneModel.id == Sku.model_id).where(Sku.active.is_(True))
    if brand:
        query = query.where(func.lower(PhoneModel.brand) == brand.lower())
    rows = [(sku, model) for sku, model in session.execute(query.order_by(PhoneModel.brand, Sku.price_fen, Sku.code))]
    return _views(session, rows, merchant_id=shelves_of)


def skus_oldest_first(session: Session) -> list[SkuView]:
    """Active SKUs in the order they were created, stock not counted (a fixed order: the demo history seeds
    its draws on it)."""
    query = (select(Sku, PhoneModel).join(PhoneModel, PhoneModel.id == Sku.model_id).where(Sku.active.is_(True))
             .order_by(Sku.id))
    return _views(session, [(sku, model) for sku, model in session.execute(query)], with_stock=False)


def first_in_stock(session: Session, merchant_id: int) -> tuple[str, str, str] | None:
    """(store code, SKU code, IMEI) of the first phone on one merchant's shelves (a training sample)."""
    row = session.execute(
        select(Store.code, Sku.code, Device.imei).join(Device, Device.store_id == Store.id)
        .join(Sku, Sku.id == Device.sku_id)
        .where(Store.merchant_id == merchant_id, Device.status == DeviceStatus.IN_STOCK, Sku.active.is_(True))
        .order_by(Device.id).limit(1)).first()
    return None if row is None else (str(row[0]), str(row[1]), str(row[2]))


# --- devices -----------------------------------------------------------------------------------


def register_device(session: Session, *, imei: str, sku_code: str, store_id: int, imei2: str | None = None) -> Device:
    number = normalize_imei(imei)
    second = normalize_imei(imei2) if imei2 else None
    if second == number:
        raise InvalidImei(f"{imei2} (second IMEI equals the first)")
    for value in filter(None, (number, second)):
        taken = session.scalar(select(Device.id).where((Device.imei == value) | (Device.imei2 == value)))
        if taken is not None:
            raise ImeiAlreadyRegistered(value)
    sku = get_sku(session, sku_code)
    get_store(session, store_id)
    device = Device(imei=number, imei2=second, sku_id=sku.id, store_id=store_id, status=DeviceStatus.IN_STOCK)
    session.add(device)
    session.flush()
    return device


def get_device(session: Session, imei: str) -> Device:
    """By either IMEI of a dual-SIM phone."""
    number = normalize_imei(imei)
    device = session.scalar(select(Device).where((Device.imei == number) | (Device.imei2 == number)))
    if device is None:
        raise NotFound.saying(f"IMEI 为 {number} 的设备", f"device with IMEI {number}")
    return device
