"""A small shop for origination, funding and catalog tests: merchants, stores, SKUs, devices, funders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from stdnum import luhn
from stdnum.cn import ric

from fenqi.catalog.service import create_merchant, create_model, create_sku, create_store, register_device
from fenqi.funding.service import add_product, create_funder, set_policy
from fenqi.kit.clock import set_business_date
from fenqi.pricing.service import seed_products

TODAY = date(2026, 11, 28)
ALL_METHODS = ["equal-installment", "equal-principal", "flat-fee", "interest-free"]


def imei(serial: int) -> str:
    body = f"86{serial:012d}"
    return body + luhn.calc_check_digit(body)


def id_number(birth: date, region: str = "110105", seq: str = "803") -> str:
    body = f"{region}{birth:%Y%m%d}{seq}"
    return body + ric.calc_check_digit(body + "0")  # stdnum expects a placeholder check digit


def clean_id_number(birth: date, region: str = "110105") -> str:
    """An ID number whose emulated credit-bureau report is clean (no delays, few inquiries), so that
    tests about other things are not declined by the bureau rules."""
    from fenqi.kit.crypto import blind_index
    from fenqi.risk.bureau import EmulatedBureau

    bureau = EmulatedBureau()
    for seq in range(100, 1000):
        number = id_number(birth, region, f"{seq:03d}")
        report = bureau.report(blind_index(number))
        if (report.credit_history in ("current_ok", "all_repaid") and not report.overdue_now
                and report.inquiries_6m <= 2 and report.open_loans <= 1):
            return number
    raise AssertionError("no clean ID number found")


@dataclass
class World:
    suffix: str
    merchant_id: int
    other_merchant_id: int
    store: str
    other_store: str
    sku: str
    cheap_sku: str
    devices: list[str] = field(default_factory=list)

    def body(self, **overrides: Any) -> dict[str, Any]:
        """A complete application an approving engine accepts; override any field."""
        profile = {"employment": "employed", "occupation": "skilled", "employment_years": 5,
                   "monthly_income": "12000.00", "housing": "own", "residence_years": 6, "bank_account": "salary",
                   "savings": "20k_50k", "assets": "real_estate", "existing_credits": 1, "existing_loans": 0}
        profile.update(overrides.pop("profile", {}))
        body: dict[str, Any] = {
            "store": self.store, "sku": self.sku, "product": "EI-12", "term": 12, "down_payment": "1000.00",
            "name": "张三丰", "id_number": clean_id_number(date(1990, 3, 7)), "phone": "13812345678",
            "bank_card": "6222021234567890128", "profile": profile,
            "consents": [{"kind": "credit_inquiry", "version": "credit-inquiry-2026.1"},
                         {"kind": "personal_info", "version": "personal-info-2026.1"}],
        }
        body.update(overrides)
        return body


def build_world(session: Session, suffix: str = "", funders: bool = True) -> World:
    set_business_date(session, TODAY)
    seed_products(session)
    m1 = create_merchant(session, code=f"TM1{suffix}", name="测试数码", region="31", fee_rate=Decimal("0.02"))
    m2 = create_merchant(session, code=f"TM2{suffix}", name="别家通讯", region="44", fee_rate=Decimal("0.015"))
    s1 = create_store(session, merchant_id=m1.id, code=f"TS1{suffix}", name="测试数码 一店", city="上海")
    s2 = create_store(session, merchant_id=m2.id, code=f"TS2{suffix}", name="别家 一店", city="深圳")
    create_model(session, code=f"TPH{suffix}", brand="Apple", name="iPhone 16")
    create_sku(session, model_code=f"TPH{suffix}", code=f"TPH{suffix}-128", storage_gb=128, colour_zh="黑色",
               colour_en="Black", price_fen=599_900)
    create_sku(session, model_code=f"TPH{suffix}", code=f"TPH{suffix}-64", storage_gb=64, colour_zh="白色",
               colour_en="White", price_fen=199_900)
    world = World(suffix, m1.id, m2.id, s1.code, s2.code, f"TPH{suffix}-128", f"TPH{suffix}-64")
    base = abs(hash(suffix)) % 1_000_000 * 100 if suffix else 0
    for i in range(4):
        device = register_device(session, imei=imei(base + 2 * i), imei2=imei(base + 2 * i + 1), sku_code=world.sku,
                                 store_id=s1.id)
        world.devices.append(device.imei)
    if funders:
        add_funders(session, suffix)
    return world


def add_funders(session: Session, suffix: str = "") -> None:
    create_funder(session, code=f"FA{suffix}", name="甲银行", kind="bank", daily_quota_fen=2_000_000,
                  monthly_quota_fen=20_000_000, priority=1)
    add_product(session, funder_code=f"FA{suffix}", methods=ALL_METHODS, terms=[3, 6, 12, 24],
                annual_rate=Decimal("0.08"), min_grade="D")
    create_funder(session, code=f"FB{suffix}", name="乙消费金融", kind="consumer_finance",
                  daily_quota_fen=2_000_000, monthly_quota_fen=20_000_000, priority=2)
    add_product(session, funder_code=f"FB{suffix}", methods=ALL_METHODS, terms=[3, 6, 12, 24],
                annual_rate=Decimal("0.06"), min_grade="D")
    set_policy(session, strategy="lowest_cost")
