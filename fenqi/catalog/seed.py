"""Demo data: two merchants, three stores, about twenty phone models of real brands with SKUs and devices;
then identity's demo users, the clerk and the owner working for the first merchant."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import luhn

from fenqi.catalog.models import Merchant
from fenqi.catalog.service import (
    create_merchant,
    create_model,
    create_sku,
    create_store,
    first_merchant_id,
    register_device,
)
from fenqi.identity.demo_users import seed_demo_users

MERCHANTS = [
    ("M-SHUMA", "数码港手机连锁", "31", Decimal("0.020")),
    ("M-XINGHE", "星河通讯", "44", Decimal("0.015")),
]
# (code, merchant, name, city, address: where a shopper who bought online collects the phone)
STORES = [
    ("S-SH-XJH", "M-SHUMA", "数码港 徐家汇店", "上海", "上海市徐汇区漕溪北路 18 号 1 楼"),
    ("S-SH-WJC", "M-SHUMA", "数码港 五角场店", "上海", "上海市杨浦区淞沪路 8 号 2 楼"),
    ("S-SZ-HQB", "M-XINGHE", "星河通讯 华强北店", "深圳", "深圳市福田区华强北路 1019 号"),
]
# (brand, model name, model code, [(storage GB, price yuan)], [(colour zh, colour en)])
MODELS: list[tuple[str, str, str, list[tuple[int, str]], list[tuple[str, str]]]] = [
    ("Apple", "iPhone 16 Pro Max", "IP16PM", [(256, "9999"), (512, "11999")],
     [("沙漠色", "Desert"), ("黑色", "Black")]),
    ("Apple", "iPhone 16 Pro", "IP16P", [(128, "7999"), (256, "8999")], [("原色", "Natural"), ("白色", "White")]),
    ("Apple", "iPhone 16", "IP16", [(128, "5999"), (256, "6999")], [("群青色", "Ultramarine"), ("黑色", "Black")]),
    ("Apple", "iPhone 15", "IP15", [(128, "4999")], [("粉色", "Pink")]),
    ("Huawei", "Mate 70 Pro", "HWM70P", [(256, "6499"), (512, "6999")], [("曜石黑", "Obsidian Black")]),
    ("Huawei", "Pura 70", "HWP70", [(256, "5499")], [("雪域白", "Snowy White")]),
    ("Huawei", "nova 13", "HWN13", [(256, "2699")], [("星耀黑", "Starry Black")]),
    ("Xiaomi", "Xiaomi 15 Pro", "MI15P", [(256, "5299"), (512, "5799")], [("岩石灰", "Slate Grey")]),
    ("Xiaomi", "Xiaomi 15", "MI15", [(256, "4499")], [("白色", "White"), ("黑色", "Black")]),
    ("Xiaomi", "Redmi K80", "RMK80", [(256, "2499")], [("雪岩白", "Snow White")]),
    ("Xiaomi", "Redmi Note 14 Pro", "RMN14P", [(256, "1599")], [("子夜黑", "Midnight Black")]),
    ("OPPO", "Find X8 Pro", "OPFX8P", [(256, "5299")], [("星野黑", "Space Black")]),
    ("OPPO", "Reno13", "OPR13", [(256, "2699")], [("午夜黑", "Midnight Black")]),
    ("vivo", "X200 Pro", "VVX200P", [(256, "5299")], [("钛色", "Titanium")]),
    ("vivo", "S20", "VVS20", [(256, "2299")], [("玉露白", "Jade White")]),
    ("Honor", "Magic7 Pro", "HNM7P", [(256, "5699")], [("月影灰", "Lunar Shadow Grey")]),
    ("Honor", "X60", "HNX60", [(128, "1199")], [("雅黑色", "Black")]),
    ("Samsung", "Galaxy S25 Ultra", "SMS25U", [(256, "9699"), (512, "10699")], [("钛灰", "Titanium Grey")]),
    ("Samsung", "Galaxy Z Flip6", "SMZF6", [(256, "7499")], [("冰薄荷", "Mint")]),
    ("OnePlus", "OnePlus 13", "OP13", [(256, "4499")], [("黑曜秘境", "Black Eclipse")]),
    ("realme", "GT7 Pro", "RLGT7P", [(256, "3599")], [("火星探索版", "Mars Orange")]),
]
DEVICES_PER_SKU_PER_STORE = 2


def demo_imei(serial: int) -> str:
    """A valid 15-digit IMEI: an 8-digit demo TAC, a 6-digit serial and the Luhn check digit."""
    body = f"35{serial // 1_000_000:06d}{serial % 1_000_000:06d}"
    return body + luhn.calc_check_digit(body)


def seed(session: Session) -> list[str]:
    # Identity's demo users come right after the merchants: identity knows no merchants, so the merchant
    # its clerk and owner work for is passed in from here.
    lines = seed_catalog(session)
    return lines + seed_demo_users(session, merchant_id=first_merchant_id(session))


def seed_catalog(session: Session) -> list[str]:
    """The shop alone: merchants, stores, phones and devices, without the demo users."""
    if session.scalar(select(Merchant.id).where(Merchant.code == MERCHANTS[0][0])) is not None:
        return ["catalog: demo data already present"]
    merchant_ids = {
        code: create_merchant(session, code=code, name=name, region=region, fee_rate=fee).id
        for code, name, region, fee in MERCHANTS
    }
    store_ids = [
        create_store(session, merchant_id=merchant_ids[m], code=code, name=name, city=city, address=address).id
        for code, m, name, city, address in STORES
    ]
    serial, skus = 1000, 0
    for brand, name, mcode, variants, colours in MODELS:
        create_model(session, code=mcode, brand=brand, name=name)
        for storage, price in variants:
            for i, (colour_zh, colour_en) in enumerate(colours):
                code = f"{mcode}-{storage}-{i + 1}"
                create_sku(session, model_code=mcode, code=code, storage_gb=storage, colour_zh=colour_zh,
                           colour_en=colour_en, price_fen=int(Decimal(price) * 100))
                skus += 1
                for store_id in store_ids:
                    for _ in range(DEVICES_PER_SKU_PER_STORE):
                        serial += 2
                        register_device(session, imei=demo_imei(serial), imei2=demo_imei(serial + 1),
                                        sku_code=code, store_id=store_id)
    devices = (serial - 1000) // 2
    return [f"catalog: {len(MERCHANTS)} merchants, {len(STORES)} stores, {len(MODELS)} phone models, "
            f"{skus} SKUs, {devices} devices"]
