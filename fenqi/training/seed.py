"""Demo data: a training store with phones on its shelf, a training funder, two trainee clerks and
their trainer (the training store's manager)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from fenqi.catalog.seed import demo_imei
from fenqi.catalog.service import create_merchant, create_store, get_merchant_by_code, list_skus, register_device
from fenqi.funding.service import add_product, create_funder
from fenqi.identity.demo_users import DEMO_PASSWORD
from fenqi.identity.roles import CLERK, MERCHANT_OWNER
from fenqi.identity.service import create_user
from fenqi.kit.errors import NotFound

MERCHANT = ("T-PRACTICE", "培训门店（练习用）", "31")
STORE = ("S-TRAIN", "培训门店 练习柜台", "上海")
FUNDER = "F-TRAINING"
ALL_METHODS = ["equal-installment", "equal-principal", "flat-fee", "interest-free"]
USERS = ((CLERK, "trainee", "陈学员"), (CLERK, "trainee2", "刘学员"), (MERCHANT_OWNER, "trainer", "培训店长"))
PHONES_PER_SKU = 4
SKUS_ON_SHELF = 3
FIRST_SERIAL = 900_000


def seed(session: Session) -> list[str]:
    try:
        get_merchant_by_code(session, MERCHANT[0])
        return ["training: the training store is already present"]
    except NotFound:
        pass
    skus = list_skus(session)
    if not skus:
        return []
    code, name, region = MERCHANT
    merchant = create_merchant(session, code=code, name=name, region=region, fee_rate=Decimal("0.02"), training=True)
    store = create_store(session, merchant_id=merchant.id, code=STORE[0], name=STORE[1], city=STORE[2])
    serial = FIRST_SERIAL
    for sku in skus[:SKUS_ON_SHELF]:
        for _ in range(PHONES_PER_SKU):
            register_device(session, imei=demo_imei(serial), imei2=demo_imei(serial + 1), sku_code=sku.code,
                            store_id=store.id)
            serial += 2
    create_funder(session, code=FUNDER, name="培训资金方（模拟）", kind="bank", daily_quota_fen=10**12,
                  monthly_quota_fen=10**13, training=True)
    add_product(session, funder_code=FUNDER, methods=ALL_METHODS, terms=[3, 6, 9, 12, 18, 24, 36],
                annual_rate=Decimal("0.07"), min_grade="E")
    for role, username, display in USERS:
        create_user(session, role=role, display_name=display, username=username, password=DEMO_PASSWORD,
                    merchant_id=merchant.id)
    return [f"training: {name} ({code}) with {SKUS_ON_SHELF * PHONES_PER_SKU} phones and a training funder; "
            f"trainees: trainee, trainee2, their manager: trainer (password {DEMO_PASSWORD}) — /merchant/training"]
