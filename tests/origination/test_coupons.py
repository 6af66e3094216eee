"""Coupons (减息券/免息券): issued by operations to shoppers' phones, chosen when applying, priced into the
plan, redeemed once at signing (also when two sales race for it on PostgreSQL), their cost withheld from
the sponsoring merchant's disbursement as a balanced entry, refused clearly when expired or ineligible,
and given back when the sale is returned."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from fenqi.catalog.service import create_merchant
from fenqi.funding.disbursement import disburse, unwind_disbursement
from fenqi.funding.models import Disbursement
from fenqi.identity.principal import Principal
from fenqi.identity.service import create_user, shopper_for_phone
from fenqi.kit.db import make_engine
from fenqi.kit.migrate import upgrade
from fenqi.kit.money import from_fen, to_fen
from fenqi.ledger.service import account_balance
from fenqi.origination.models import Application
from fenqi.origination.plans import coupon_cost, price_plan
from fenqi.origination.schemas import ApplicationIn
from fenqi.origination.service import Origin, submit
from fenqi.origination.signing import generate_contract
from fenqi.origination.signing import sign as sign_application
from fenqi.pricing.subsidy import present_value
from fenqi.promotions import coupons
from fenqi.promotions.coupons import CouponTerms
from fenqi.promotions.errors import CouponUsed
from fenqi.promotions.models import Coupon, CouponClaim
from fenqi.promotions.schemas import CouponIssueIn
from fenqi.servicing.models import Loan
from tests.funding.test_routing import funder
from tests.origination.test_signing import contract, sign
from tests.origination.world import TODAY, World, build_world, clean_id_number

Headers = Callable[..., dict[str, str]]
PHONE = "13812345678"  # the world's applications' mobile number


def issue(client: TestClient, world: World, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "batch": "WELCOME", "kind": "interest_free", "name_zh": "新客免息券", "name_en": "Welcome interest-free",
        "merchant_id": world.merchant_id, "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_to": (TODAY + timedelta(days=30)).isoformat(), "product_codes": ["EI-12"], "terms": [12],
        "min_price": "3000.00", "phones": [PHONE], **changes,
    }
    answer = client.post("/api/v1/coupons", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json()["items"][0])


def apply(client: TestClient, world: World, clerk: dict[str, str], n: int, **changes: Any) -> Any:
    body = world.body(id_number=clean_id_number(date(1986, 2, 1 + n)), **changes)
    return client.post("/api/v1/applications", json=body, headers=clerk)


def test_an_interest_free_coupon_prices_the_plan_is_paid_by_the_merchant_and_used_once(
    client: TestClient, session: Session, world: World, clerk: dict[str, str], auth_headers: Headers
) -> None:
    ops = auth_headers("finance")
    coupon = issue(client, world, ops)
    assert coupon["status"] == "issued" and coupon["code"].startswith("Q")
    shopper = auth_headers("shopper")  # another shopper sees none of it
    assert client.get("/api/v1/coupons/mine", headers=shopper).json()["items"] == []

    made = apply(client, world, clerk, 1, coupon=coupon["code"].lower())
    assert made.status_code == 201, made.text
    app_id = made.json()["application"]["id"]
    offer = client.get(f"/api/v1/applications/{app_id}/offer", headers=clerk).json()
    assert offer["apr"] == "0.0000" and offer["total_cost"] == "0.00"  # EI-12 is 12.00% without it
    # What the coupon costs: the funder's (6%) present value of the interest the shopper no longer pays.
    base = price_plan(session, price_fen=599_900, product_code="EI-12", term=12, down_payment="1000.00", start=TODAY)
    free = price_plan(session, price_fen=599_900, product_code="EI-12", term=12, down_payment="1000.00",
                      start=TODAY, coupon=CouponTerms(coupon["code"], "interest_free", Decimal(0)))
    cost = to_fen(coupon_cost(base, free, Decimal("0.06")))
    assert 0 < cost < to_fen(base.quote.total_cost)
    assert offer["merchant"]["subsidy"] == f"{from_fen(cost):.2f}"

    income = account_balance(session, "subsidy_income")
    doc = contract(client, app_id, clerk)
    signed = sign(client, app_id, clerk, doc["sha256"], world.devices[0])
    assert signed.status_code == 200, signed.text
    loan_id = signed.json()["loan_id"]
    assert signed.json()["disbursement"]["subsidy"] == f"{from_fen(cost):.2f}"
    assert account_balance(session, "subsidy_income") - income == cost
    paid = session.scalar(select(Disbursement).where(Disbursement.loan_id == loan_id))
    assert paid is not None and paid.amount_fen + paid.subsidy_fen + paid.merchant_fee_fen == paid.financed_fen
    loan = session.get(Loan, loan_id)
    assert loan is not None and (loan.annual_rate, loan.apr) == (Decimal(0), Decimal(0))
    row = session.scalar(select(Coupon).where(Coupon.code == coupon["code"]))
    assert row is not None and (row.status, row.loan_id, row.subsidy_fen) == ("redeemed", loan_id, cost)

    # The shopper's account (the phone's) lists it as used; a second sale cannot use it again.
    mine = client.get("/api/v1/coupons/mine", headers=_shopper(session, auth_headers))
    assert [(c["code"], c["status"]) for c in mine.json()["items"]] == [(coupon["code"], "redeemed")]
    again = apply(client, world, clerk, 2, coupon=coupon["code"])
    assert again.status_code == 409 and again.json()["error"] == "coupon_used"
    assert "只能用一次" in again.json()["message"]


def _shopper(session: Session, auth_headers: Headers) -> dict[str, str]:
    from fenqi.identity.service import create_api_key

    _, key = create_api_key(session, shopper_for_phone(session, PHONE), name="test")
    return {"Authorization": f"Bearer {key}"}


def test_expired_ineligible_and_foreign_coupons_are_refused_in_both_languages(
    client: TestClient, world: World, clerk: dict[str, str], auth_headers: Headers
) -> None:
    ops = auth_headers("finance")
    expired = issue(client, world, ops, batch="OLD", valid_from="2026-10-01", valid_to="2026-10-31")
    cut = issue(client, world, ops, batch="CUT", kind="rate_cut", rate_cut="0.05", terms=[6])
    foreign = issue(client, world, ops, batch="ELSE", phones=["13900001111"])
    answer = apply(client, world, clerk, 3, coupon=expired["code"])
    assert answer.status_code == 409 and answer.json()["error"] == "coupon_expired"
    assert "不在有效期内" in answer.json()["message"] and "2026-10-31" in answer.json()["message"]
    en = apply(client, world, {**clerk, "Accept-Language": "en"}, 4, coupon=expired["code"])
    assert "outside its validity dates" in en.json()["message"]
    wrong_term = apply(client, world, clerk, 5, coupon=cut["code"])
    assert wrong_term.status_code == 409 and wrong_term.json()["error"] == "coupon_ineligible"
    assert "仅限6期" in wrong_term.json()["message"]
    assert "only for [6] months" in apply(client, world, {**clerk, "Accept-Language": "en"}, 6,
                                          coupon=cut["code"]).json()["message"]
    cheap = apply(client, world, clerk, 7, coupon=cut["code"], term=6, sku=world.cheap_sku, down_payment="300.00")
    assert cheap.json()["error"] == "coupon_ineligible" and "3,000.00" in cheap.json()["message"]
    assert apply(client, world, clerk, 8, coupon=foreign["code"]).json()["error"] == "coupon_not_found"
    # A 减息券 lowers the rate by its points: EI-12's 12.00% becomes 7.00%.
    ok = apply(client, world, clerk, 9, coupon=cut["code"], term=6)
    assert ok.status_code == 201, ok.text
    assert ok.json()["application"]["plan"]["apr"] == "0.0700"
    # Another plan the coupon does not fit lets the coupon go (priced without it); a plan it fits keeps it.
    app_id = ok.json()["application"]["id"]
    back = client.put(f"/api/v1/applications/{app_id}/plan", params={"product": "EI-12", "term": 6,
                                                                       "down_payment": "1000.00"}, headers=clerk)
    assert back.status_code == 200 and back.json()["plan"]["apr"] == "0.0700", back.text
    moved = client.put(f"/api/v1/applications/{app_id}/plan", params={"product": "EI-12", "term": 12,
                                                                        "down_payment": "1000.00"}, headers=clerk)
    assert moved.status_code == 200 and moved.json()["plan"]["apr"] == "0.1200", moved.text
    bad = {"rate_cut": "0.50", "valid_to": "2026-01-01", "product_codes": ["IF-MERCHANT"], "phones": ["123"]}
    for field, value in bad.items():
        body = {**issue_body(world), field: value}
        assert client.post("/api/v1/coupons", json=body, headers=ops).status_code in (400, 422), field
    assert client.post("/api/v1/coupons", json=issue_body(world), headers=clerk).status_code == 403


def issue_body(world: World) -> dict[str, Any]:
    return {"batch": "B", "kind": "rate_cut", "rate_cut": "0.05", "name_zh": "减息", "name_en": "Cut",
            "merchant_id": world.merchant_id, "valid_from": TODAY.isoformat(), "valid_to": TODAY.isoformat(),
            "phones": [PHONE]}


def test_a_returned_sale_gives_the_coupon_back(session: Session, world: World) -> None:
    made = coupons.issue(session, CouponIssueIn(**{**issue_body(world), "valid_to": TODAY}), actor_user_id=None)
    row = session.scalar(select(Coupon).where(Coupon.code == made[0].code))
    assert row is not None
    session.add(CouponClaim(application_id=77, coupon_id=row.id))
    assert coupons.redeem(session, 77, on=TODAY) == row.code
    coupons.record_cost(session, 77, loan_id=7_007, subsidy_fen=1_234)
    later = TODAY + timedelta(days=5)
    assert coupons.reinstate(session, 7_007, on=later) == row.code
    session.refresh(row)
    assert (row.status, row.reinstated, row.loan_id, row.valid_to) == ("issued", 1, None, later + timedelta(days=7))
    assert coupons.reinstate(session, 7_007, on=later) is None  # once


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(price=st.integers(150_000, 1_500_000), term=st.sampled_from([3, 6, 12]),
       cut=st.sampled_from([None, "0.01", "0.05", "0.10"]), funder_rate=st.sampled_from(["0", "0.045", "0.08"]))
def test_a_coupon_cost_is_booked_balanced_and_loses_no_fen(
    session: Session, world: World, price: int, term: int, cut: str | None, funder_rate: str
) -> None:
    nested = session.begin_nested()
    try:
        terms = CouponTerms("Q", "interest_free" if cut is None else "rate_cut", Decimal(cut or 0))
        base = price_plan(session, price_fen=price, product_code="EI-12", term=term, down_payment=None, start=TODAY)
        plan = price_plan(session, price_fen=price, product_code="EI-12", term=term, down_payment=None, start=TODAY,
                          coupon=terms)
        cost = to_fen(coupon_cost(base, plan, Decimal(funder_rate)))
        # The funder receives the same value as without the coupon, to within the fen the cost is rounded to.
        monthly = Decimal(funder_rate) / 12
        before = present_value([i.total for i in base.quote.installments], monthly)
        after = present_value([i.total for i in plan.quote.installments], monthly) + from_fen(cost)
        assert abs(before - after) <= Decimal("0.005")
        merchant = create_merchant(session, code="CPN", name="券商户", region="31", fee_rate=Decimal("0.02"))
        funder(session, "CF", funder_rate)
        down = to_fen(base.quote.request.down_payment)
        accounts = ("merchant_payable", "funder_payable", "subsidy_income", "merchant_fee_income")
        start = {a: account_balance(session, a) for a in accounts}
        paid = disburse(session, application_id=1, loan_id=1, funder_code="CF", merchant_id=merchant.id,
                        price_fen=price, down_payment_fen=down, subsidy_fen=cost, on=TODAY)
        moved = {a: account_balance(session, a) - v for a, v in start.items()}
        assert moved == {"merchant_payable": -(price - down), "funder_payable": paid.amount_fen,
                         "subsidy_income": cost, "merchant_fee_income": paid.merchant_fee_fen}
        assert paid.amount_fen + cost + paid.merchant_fee_fen == price - down
        unwind_disbursement(session, loan_id=1, on=TODAY)
        assert {a: account_balance(session, a) for a in accounts} == start  # a return gives every fen back
    finally:
        nested.rollback()


@pytest.mark.skipif("postgresql" not in os.environ.get("FENQI_TEST_DATABASE_URL", ""),
                    reason="real concurrency needs PostgreSQL")
def test_two_applications_signing_with_one_coupon_at_once_redeem_it_once() -> None:
    """Two approved applications of the coupon's shopper, each with its contract, signed at the same moment
    through the whole signing service on PostgreSQL: one is signed, the other refused with nothing kept."""
    url = os.environ["FENQI_TEST_DATABASE_URL"]
    base, name = url.rsplit("/", 1)
    scratch = f"{name}_coupon_{os.getpid()}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        upgrade(f"{base}/{scratch}")
        engine = make_engine(f"{base}/{scratch}")
        with Session(engine) as s, s.begin():
            world = build_world(s)
            clerk = create_user(s, role="clerk", display_name="店员", merchant_id=world.merchant_id)
            who = Principal(user_id=clerk.id, role="clerk", merchant_id=world.merchant_id, display_name="店员")
            made = coupons.issue(s, CouponIssueIn(
                batch="RACE", kind="interest_free", name_zh="抢券", name_en="Race", merchant_id=world.merchant_id,
                valid_from=TODAY, valid_to=TODAY, phones=[PHONE]))
            ready = []
            for n in range(2):
                body = ApplicationIn(**world.body(id_number=clean_id_number(date(1987, 3, 1 + n)),
                                                  coupon=made[0].code))
                app = submit(s, body, who, Origin("127.0.0.1", "test")).application
                assert app.status == "approved", app.status
                ready.append((app.id, generate_contract(s, app).sha256, world.devices[n]))
        signed, refused, errors = [], [], []  # type: ignore[var-annotated]
        gate = threading.Barrier(2)

        def signing(app_id: int, sha: str, imei: str) -> None:
            with Session(engine) as s:
                gate.wait()
                try:
                    with s.begin():
                        app = s.get(Application, app_id)
                        assert app is not None
                        sign_application(s, app, contract_sha256=sha, consent_version="e-contract-2026.1", imei=imei,
                             channel="alipay", principal=who, origin=Origin("127.0.0.1", "test"))
                    signed.append(app_id)
                except CouponUsed:
                    refused.append(app_id)
                except Exception as exc:
                    errors.append(repr(exc))

        threads = [threading.Thread(target=signing, args=args) for args in ready]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(signed) == 1 and len(refused) == 1
        with Session(engine) as s:
            row = s.scalar(select(Coupon).where(Coupon.code == made[0].code))
            loser = s.get(Application, refused[0])
            assert row is not None and (row.status, row.application_id) == ("redeemed", signed[0])
            assert loser is not None and (loser.status, loser.loan_id) == ("approved", None)
            assert s.scalar(select(func.count()).select_from(Loan)) == 1
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def test_operations_issue_coupons_to_a_list_on_the_console_page(
    client: TestClient, session: Session, world: World, auth_headers: Headers
) -> None:
    ops = {**auth_headers("finance"), "Accept": "text/html"}
    page = client.get("/ops/coupons", headers=ops)
    assert page.status_code == 200 and "还没有发过优惠券" in page.text
    form = {"name_zh": "双十二减息券", "batch": "D12", "kind": "rate_cut", "rate_cut": "5", "merchant_code": "TM1",
            "products": ["EI-12"], "terms": ["12"], "valid_from": TODAY.isoformat(),
            "valid_to": (TODAY + timedelta(days=14)).isoformat(), "phones": "13812345678\n13900001111，13900002222"}
    made = client.post("/ops/coupons", data=form, headers=ops)
    assert made.status_code == 200 and "已发放 3 张" in made.text, made.text[-800:]
    assert "双十二减息券" in made.text and "减息券" in made.text
    rows = session.scalars(select(Coupon).where(Coupon.batch == "D12")).all()
    assert {(c.rate_cut, tuple(c.terms), c.merchant_id) for c in rows} == {(Decimal("0.05"), (12,), world.merchant_id)}
    assert len({c.shopper_user_id for c in rows}) == 3
    bad = client.post("/ops/coupons", data={**form, "rate_cut": "abc"}, headers=ops)
    assert bad.status_code == 400 and "减息幅度" in bad.text
    wrong = client.post("/ops/coupons", data={**form, "phones": "12345"}, headers=ops)
    assert wrong.status_code == 400
    clerk = {**auth_headers("clerk", world.merchant_id), "Accept": "text/html"}
    assert client.post("/ops/coupons", data=form, headers=clerk).status_code == 403
