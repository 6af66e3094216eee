"""Training mode never touches a shopper's real coupons: a practice sale that names a coupon is refused
(zh/en) and the coupon stays issued, unclaimed; a training store cannot issue coupons to phone numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_merchant_by_code
from fenqi.identity.service import shopper_for_phone
from fenqi.promotions.models import Coupon, CouponClaim
from fenqi.training import seed as training_seed
from fenqi.training import service as training
from tests.origination.world import TODAY, build_world

CONSENTS = {"consent_credit_inquiry": "credit-inquiry-2026.1", "consent_personal_info": "personal-info-2026.1"}


def _practice_body(session: Session, merchant_id: int, **changes: object) -> dict[str, object]:
    form = training.sample_form(session, merchant_id, "sale", CONSENTS)
    body = {"store": form["store"], "sku": form["sku"], "imei": form["imei"], "product": "EI-12", "term": 12,
            "name": form["name"], "id_number": form["id_number"], "phone": form["phone"],
            "bank_card": form["bank_card"],
            "profile": {k: form[k] for k in ("employment", "occupation", "housing", "bank_account", "savings",
                                             "assets", "monthly_income", "employment_years", "residence_years")},
            "consents": [{"kind": "credit_inquiry", "version": "credit-inquiry-2026.1"},
                         {"kind": "personal_info", "version": "personal-info-2026.1"}]}
    return {**body, **changes}


def test_a_practice_sale_cannot_redeem_a_shoppers_coupon(
    client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    build_world(session, suffix="TCP")
    training_seed.seed(session)
    merchant = get_merchant_by_code(session, training_seed.MERCHANT[0])
    trainee = auth_headers("clerk", merchant.id)
    body = _practice_body(session, merchant.id)
    # The sample shopper's phone number has a real account holding a coupon the training store's sales would
    # accept (sponsored by it: such coupons existed before a training store was refused as a sponsor).
    owner = shopper_for_phone(session, str(body["phone"]))
    coupon = Coupon(code="QTRAINING01", batch="B", kind="interest_free", name_zh="免息券", name_en="Free",
                    merchant_id=merchant.id, shopper_user_id=owner.id, valid_from=TODAY - timedelta(days=1),
                    valid_to=TODAY + timedelta(days=30), product_codes=[], terms=[], min_price_fen=0,
                    status="issued", subsidy_fen=0, reinstated=0)
    session.add(coupon)
    session.flush()

    refused = client.post("/api/v1/applications", json={**body, "coupon": coupon.code}, headers=trainee)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "coupon_not_for_practice"
    assert "培训模式" in refused.json()["message"]
    english = client.post("/api/v1/applications", json={**body, "coupon": coupon.code},
                          headers={**trainee, "Accept-Language": "en"})
    assert "practice sale" in english.json()["message"]
    session.refresh(coupon)
    assert coupon.status == "issued" and coupon.application_id is None
    assert session.scalar(select(func.count()).select_from(CouponClaim).where(
        CouponClaim.coupon_id == coupon.id)) == 0
    # Without the coupon the practice goes on as before.
    fine = client.post("/api/v1/applications", json=body, headers=trainee)
    assert fine.status_code == 201, fine.text


def test_a_training_store_cannot_issue_coupons(
    client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    build_world(session, suffix="TCI")
    training_seed.seed(session)
    merchant = get_merchant_by_code(session, training_seed.MERCHANT[0])
    body = {"batch": "PRACTICE", "kind": "interest_free", "name_zh": "练习券", "name_en": "Practice",
            "merchant_id": merchant.id, "valid_from": TODAY.isoformat(),
            "valid_to": (TODAY + timedelta(days=30)).isoformat(), "product_codes": [], "terms": [],
            "min_price": "0.00", "phones": ["13812345670"]}
    got = client.post("/api/v1/coupons", json=body, headers=auth_headers("finance"))
    assert got.status_code == 400 and got.json()["error"] == "invalid_coupon", got.text
    assert "培训门店" in got.json()["message"]
    assert session.scalar(select(func.count()).select_from(Coupon).where(Coupon.merchant_id == merchant.id)) == 0
