"""Applications through the HTTP API: KYC refusals, decisions with reasons, one open application per ID,
personal data encrypted at rest and masked in every answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_device
from fenqi.origination.models import Application, Consent
from tests.origination.world import TODAY, World, clean_id_number


def test_good_shopper_is_approved_and_routed(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    response = client.post("/api/v1/applications", json=world.body(), headers=clerk)
    assert response.status_code == 201, response.text
    body = response.json()
    app = body["application"]
    assert app["status"] == "approved"
    assert body["decision"]["outcome"] == "approve"
    assert app["funder"] == "FB"  # lowest cost: 6% beats 8%
    assert app["plan"] == {"product": "EI-12", "method": "equal-installment", "term": 12, "apr": "0.1200",
                           "down_payment": "1000.00", "financed": "4999.00", "max_installment": "444.16"}
    assert app["channel"] == "store"


def test_personal_data_is_masked_in_answers(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    number = clean_id_number(date(1990, 3, 7))
    body = client.post("/api/v1/applications", json=world.body(), headers=clerk).json()
    shopper = body["application"]["shopper"]
    assert shopper == {"name": "张**", "id_number": number[:4] + "*" * 10 + number[-4:], "phone": "138****5678",
                       "bank_card": "**** **** **** 0128", "age": 36}
    raw = str(body)
    for secret in (number, "13812345678", "6222021234567890128", "张三丰"):
        assert secret not in raw


def test_personal_data_is_encrypted_at_rest(client: TestClient, session: Session, world: World,
                                            clerk: dict[str, str]) -> None:
    number = clean_id_number(date(1990, 3, 7))
    app_id = client.post("/api/v1/applications", json=world.body(), headers=clerk).json()["application"]["id"]
    row = session.execute(
        text("SELECT name_enc, id_number_enc, id_hash, phone_enc, bank_card_enc FROM application WHERE id = :id"),
        {"id": app_id},
    ).one()
    stored = " ".join(str(v) for v in row)
    for secret in (number, "13812345678", "6222021234567890128", "张三丰"):
        assert secret not in stored
    assert all(str(v).startswith("v1:") for v in (row[0], row[1], row[3], row[4]))


def test_consents_recorded_separately_with_version_ip_and_device(
    client: TestClient, session: Session, world: World, clerk: dict[str, str]
) -> None:
    app_id = client.post("/api/v1/applications", json=world.body(device="iPhone 15 / Safari"),
                         headers=clerk).json()["application"]["id"]
    rows = session.scalars(select(Consent).where(Consent.application_id == app_id).order_by(Consent.kind)).all()
    assert [(c.kind, c.text_version) for c in rows] == [
        ("credit_inquiry", "credit-inquiry-2026.1"), ("personal_info", "personal-info-2026.1")]
    assert {c.device for c in rows} == {"iPhone 15 / Safari"}
    assert all(c.ip and len(c.text_sha256) == 64 and c.agreed_at for c in rows)
    assert rows[0].text_sha256 != rows[1].text_sha256


def test_student_is_declined_with_reason(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    response = client.post("/api/v1/applications", headers={**clerk, "Accept-Language": "en"},
                           json=world.body(profile={"is_full_time_student": True}))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "full_time_student"
    assert "student" in body["message"]
    assert body["application"]["status"] == "declined"
    assert body["decision"]["outcome"] == "decline"


def test_seventeen_year_old_is_declined_in_chinese(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    minor = clean_id_number(date(TODAY.year - 17, TODAY.month, TODAY.day))
    response = client.post("/api/v1/applications", json=world.body(id_number=minor), headers=clerk)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "age_out_of_range"
    assert "年龄" in body["message"]
    assert body["application"]["shopper"]["age"] == 17


def test_eighteen_today_is_not_refused_for_age(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    adult = clean_id_number(date(TODAY.year - 18, TODAY.month, TODAY.day))
    body = client.post("/api/v1/applications", json=world.body(id_number=adult), headers=clerk).json()
    assert body["application"]["shopper"]["age"] == 18
    assert "age_out_of_range" not in [r["code"] for r in body["decision"]["reasons"]]


def test_wrong_id_check_digit_is_refused(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    good = clean_id_number(date(1990, 3, 7))
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = client.post("/api/v1/applications", json=world.body(id_number=bad), headers=clerk)
    assert response.status_code == 400
    assert response.json()["error"] == "id_number_invalid"
    assert "校验码" in response.json()["message"]
    en = client.post("/api/v1/applications", json=world.body(id_number=bad), headers={**clerk, "Accept-Language": "en"})
    assert "check digit" in en.json()["message"]


def test_bad_phone_and_card_are_refused(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    phone = client.post("/api/v1/applications", json=world.body(phone="12345"), headers=clerk)
    assert phone.json()["error"] == "phone_invalid"
    card = client.post("/api/v1/applications", json=world.body(bank_card="6222021234567890123"), headers=clerk)
    assert card.json()["error"] == "bank_card_invalid"


def test_consents_must_be_given_separately_and_current(
    client: TestClient, world: World, clerk: dict[str, str]
) -> None:
    one = world.body(consents=[{"kind": "credit_inquiry", "version": "credit-inquiry-2026.1"}])
    response = client.post("/api/v1/applications", json=one, headers=clerk)
    assert (response.status_code, response.json()["error"]) == (400, "consent_missing")
    old = world.body(consents=[{"kind": "credit_inquiry", "version": "credit-inquiry-2025.1"},
                               {"kind": "personal_info", "version": "personal-info-2026.1"}])
    assert client.post("/api/v1/applications", json=old, headers=clerk).json()["error"] == "consent_outdated"


def test_one_open_application_per_id_number(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    first = client.post("/api/v1/applications", json=world.body(), headers=clerk)
    assert first.status_code == 201
    again = client.post("/api/v1/applications", json=world.body(phone="13912345678"), headers=clerk)
    assert (again.status_code, again.json()["error"]) == (409, "application_open")
    other = client.post("/api/v1/applications", json=world.body(id_number=clean_id_number(date(1985, 1, 2))),
                        headers=clerk)
    assert other.status_code == 201, other.text
    app_id = first.json()["application"]["id"]
    assert client.post(f"/api/v1/applications/{app_id}/cancel", headers=clerk).json()["status"] == "cancelled"
    assert client.post("/api/v1/applications", json=world.body(), headers=clerk).status_code == 201


def test_a_declined_application_does_not_block_the_next(
    client: TestClient, world: World, clerk: dict[str, str]
) -> None:
    declined = client.post("/api/v1/applications", json=world.body(profile={"is_full_time_student": True}),
                           headers=clerk)
    assert declined.status_code == 422
    assert client.post("/api/v1/applications", json=world.body(), headers=clerk).status_code == 201


def test_imei_reserved_and_invalid_or_sold_imei_refused(
    client: TestClient, session: Session, world: World, clerk: dict[str, str]
) -> None:
    bad = client.post("/api/v1/applications", json=world.body(imei="356938035643808"), headers=clerk)
    assert (bad.status_code, bad.json()["error"]) == (400, "imei_invalid")
    ok = client.post("/api/v1/applications", json=world.body(imei=world.devices[0]), headers=clerk)
    assert ok.status_code == 201, ok.text
    assert get_device(session, world.devices[0]).status == "reserved"
    taken = client.post("/api/v1/applications", headers=clerk,
                        json=world.body(imei=world.devices[0], id_number=clean_id_number(date(1985, 1, 2))))
    assert (taken.status_code, taken.json()["error"]) == (409, "imei_not_available")


def test_declined_application_gives_the_phone_back(
    client: TestClient, session: Session, world: World, clerk: dict[str, str]
) -> None:
    response = client.post("/api/v1/applications", headers=clerk,
                           json=world.body(imei=world.devices[1], profile={"is_full_time_student": True}))
    assert response.status_code == 422
    assert get_device(session, world.devices[1]).status == "in_stock"


def test_clerk_cannot_apply_in_another_merchants_store(
    client: TestClient, world: World, auth_headers: Callable[..., dict[str, str]]
) -> None:
    stranger = auth_headers("clerk", world.other_merchant_id)
    assert client.post("/api/v1/applications", json=world.body(), headers=stranger).status_code == 403


def test_roles_and_visibility(
    client: TestClient, world: World, clerk: dict[str, str], auth_headers: Callable[..., dict[str, str]]
) -> None:
    assert client.post("/api/v1/applications", json=world.body()).status_code == 401
    assert client.post("/api/v1/applications", json=world.body(),
                       headers=auth_headers("collector")).status_code == 403
    shopper = auth_headers("shopper")
    mine = client.post("/api/v1/applications", json=world.body(), headers=shopper)
    assert mine.status_code == 201
    app_id = mine.json()["application"]["id"]
    assert mine.json()["application"]["channel"] == "online"
    assert client.get(f"/api/v1/applications/{app_id}", headers=shopper).status_code == 200
    assert client.get(f"/api/v1/applications/{app_id}", headers=auth_headers("shopper")).status_code == 403
    assert client.get(f"/api/v1/applications/{app_id}", headers=clerk).status_code == 200
    other = auth_headers("merchant_owner", world.other_merchant_id)
    assert client.get(f"/api/v1/applications/{app_id}", headers=other).status_code == 403
    assert client.get(f"/api/v1/applications/{app_id}", headers=auth_headers("risk_officer")).status_code == 200
    listed = client.get("/api/v1/applications", headers=auth_headers("shopper")).json()["applications"]
    assert listed == []


def test_plan_outside_the_product_is_refused(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    body = world.body(product="EP-10", term=3, down_payment="1200.00")
    response = client.post("/api/v1/applications", json=body, headers=clerk)
    assert response.json()["error"] == "plan_not_offered"
    low = client.post("/api/v1/applications", json=world.body(product="EP-10", down_payment="100.00"),
                      headers=clerk)
    assert low.json()["error"] == "invalid_down_payment"


def test_stored_application_keeps_the_decision(client: TestClient, session: Session, world: World,
                                               clerk: dict[str, str]) -> None:
    body = client.post("/api/v1/applications", json=world.body(), headers=clerk).json()
    app = session.get(Application, body["application"]["id"])
    assert app is not None
    assert app.decision_id == body["decision"]["id"]
    assert app.outcome == "approve" and app.grade == body["decision"]["grade"]
    assert app.open_key == app.id_hash


def test_referred_application_moves_on_after_manual_review(
    client: TestClient, world: World, clerk: dict[str, str], auth_headers: Callable[..., dict[str, str]]
) -> None:
    # An installment of 444.16 on 1100.00 a month is 40% of income: a soft rule refers it to a person.
    tight = world.body(profile={"monthly_income": "1100.00"})
    referred = client.post("/api/v1/applications", json=tight, headers=clerk)
    assert referred.status_code == 202, referred.text
    app = referred.json()["application"]
    assert app["status"] == "referred" and app["funder"] is None
    assert client.get(f"/api/v1/applications/{app['id']}/offer", headers=clerk).json()["error"] == "application_state"
    officer = auth_headers("risk_officer")
    verdict = client.post(f"/api/v1/risk/reviews/{app['decision']['id']}", headers=officer,
                          json={"verdict": "approve", "note": "工资流水核实 / payslips checked"})
    assert verdict.status_code == 200, verdict.text
    after = client.get(f"/api/v1/applications/{app['id']}", headers=clerk).json()
    assert after["status"] == "approved" and after["funder"] == "FB"


def test_referred_application_declined_on_review_frees_the_id(
    client: TestClient, world: World, clerk: dict[str, str], auth_headers: Callable[..., dict[str, str]]
) -> None:
    tight = world.body(profile={"monthly_income": "1100.00"})
    app = client.post("/api/v1/applications", json=tight, headers=clerk).json()["application"]
    client.post(f"/api/v1/risk/reviews/{app['decision']['id']}", headers=auth_headers("risk_officer"),
                json={"verdict": "decline", "note": "收入不足 / income too low"})
    assert client.get(f"/api/v1/applications/{app['id']}", headers=clerk).json()["status"] == "declined"
    assert client.post("/api/v1/applications", json=world.body(), headers=clerk).status_code == 201


def test_negative_income_is_refused_not_a_server_error(
    client: TestClient, world: World, clerk: dict[str, str]
) -> None:
    response = client.post("/api/v1/applications", json=world.body(profile={"monthly_income": "-1.00"}),
                           headers=clerk)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_input")
    fine = client.post("/api/v1/applications", json=world.body(profile={"monthly_income": "0.001"}), headers=clerk)
    assert fine.json()["error"] == "amount_finer_than_fen"


def test_unknown_store_or_sku_is_named(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    en = {**clerk, "Accept-Language": "en"}
    store = client.post("/api/v1/applications", json=world.body(store="NOPE"), headers=en)
    assert (store.status_code, store.json()["message"]) == (404, "Not found: store NOPE")
    sku = client.post("/api/v1/applications", json=world.body(sku="NOPE"), headers=en)
    assert (sku.status_code, sku.json()["message"]) == (404, "Not found: SKU NOPE")
    zh = client.post("/api/v1/applications", json=world.body(sku="NOPE"), headers=clerk)
    assert (zh.status_code, zh.json()["message"]) == (404, "未找到：商品 NOPE")  # no English inside the Chinese


def test_an_approved_application_takes_few_round_trips(
        client: TestClient, session: Session, world: World, clerk: dict[str, str]) -> None:
    """The busiest write path reads nothing twice: not the merchant (loaded with the store), not the
    shopper's account (only a coupon needs it), not the coupon or subsidy it has just written."""
    statements: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        response = client.post("/api/v1/applications", json=world.body(), headers=clerk)
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert response.status_code == 201, response.text
    assert response.json()["application"]["status"] == "approved"
    assert not [s for s in statements if s.startswith("SELECT merchant.training")]
    assert not [s for s in statements if "FROM campaign_spend" in s or "FROM coupon" in s]
    assert not [s for s in statements if s.startswith("SELECT app_user.")]
    # 13 on PostgreSQL (19 before); SQLite inserts the consents one by one, and a new key's first use is noted.
    assert len(statements) <= 16, "\n".join(statements)
