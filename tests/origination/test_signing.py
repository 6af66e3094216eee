"""From SKU to a signed contract through the API: the offer, the PDF (its text via pdftotext), the
consent with the document's hash, the booked loan, the bound IMEI, the disbursement entry and the
down-payment order."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_device
from fenqi.funding.models import Disbursement
from fenqi.funding.service import get_funder, quota_left
from fenqi.ledger.service import account_balance
from fenqi.origination.models import Consent
from tests.origination.world import TODAY, World


def approved(client: TestClient, world: World, headers: dict[str, str], **overrides: Any) -> int:
    response = client.post("/api/v1/applications", json=world.body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["application"]["id"])


def contract(client: TestClient, app_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(f"/api/v1/applications/{app_id}/contract", headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def sign(client: TestClient, app_id: int, headers: dict[str, str], sha: str, imei: str) -> Any:
    return client.post(f"/api/v1/applications/{app_id}/sign", headers=headers, json={
        "contract_sha256": sha, "consent_version": "e-contract-2026.1", "imei": imei, "channel": "alipay"})


def test_offer_puts_the_apr_first_with_the_full_schedule(
    client: TestClient, world: World, clerk: dict[str, str]
) -> None:
    app_id = approved(client, world, clerk)
    offer = client.get(f"/api/v1/applications/{app_id}/offer", headers=clerk).json()
    assert list(offer)[:3] == ["application_id", "apr", "apr_percent"]
    assert (offer["apr"], offer["apr_percent"]) == ("0.1200", "12.00%")
    assert len(offer["installments"]) == 12
    assert offer["total_repayment"] == "5329.87"
    assert offer["total_cost"] == "330.87"
    assert offer["shopper"] == "张**"
    assert offer["merchant"] == {"subsidy": "0.00", "fee": "99.98", "disbursement": "4899.02"}


def test_contract_pdf_states_apr_and_masked_name(
    client: TestClient, world: World, clerk: dict[str, str], tmp_path: Path
) -> None:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: install Debian poppler-utils (scripts/system-deps)")
    app_id = approved(client, world, clerk)
    doc = contract(client, app_id, clerk)
    pdf = client.get(doc["pdf_url"], headers=clerk)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-content-sha256"] == doc["sha256"]
    path = tmp_path / "contract.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "年化利率（APR）：12.00%" in text
    assert "张**" in text
    assert "张三丰" not in text
    for clause in ("罚息", "提前还款", "七日无理由退货", "投诉渠道", "400-800-8888", "乙消费金融", "5,329.87"):
        assert clause in text, clause
    # The APR comes before any other rate in the document.
    assert text.index("年化利率（APR）") < text.index("年利率（名义）")


def test_sign_books_the_loan_binds_the_imei_pays_the_merchant_and_opens_the_down_payment(
    client: TestClient, session: Session, world: World, clerk: dict[str, str]
) -> None:
    funder = get_funder(session, "FB")
    before = quota_left(session, funder, TODAY)
    payable_before = account_balance(session, "merchant_payable")
    fees_before = account_balance(session, "merchant_fee_income")
    app_id = approved(client, world, clerk)
    doc = contract(client, app_id, clerk)
    response = sign(client, app_id, clerk, doc["sha256"], world.devices[2])
    assert response.status_code == 200, response.text
    signed = response.json()
    assert signed["status"] == "signed"
    assert signed["disbursement"] == {"amount": "4899.02", "subsidy": "0.00", "merchant_fee": "99.98",
                                      "financed": "4999.00", "apr": "0.1200"}
    order = signed["down_payment_order"]
    assert order["amount"] == "1000.00" and order["channel"] == "alipay" and order["pay_url"]
    device = get_device(session, world.devices[2])
    assert (device.status, device.loan_id) == ("sold", signed["loan_id"])
    consent = session.scalar(select(Consent).where(Consent.application_id == app_id, Consent.kind == "e_contract"))
    assert consent is not None and consent.document_sha256 == doc["sha256"]
    row = session.scalar(select(Disbursement).where(Disbursement.application_id == app_id))
    assert row is not None and row.amount_fen == 489_902
    assert quota_left(session, funder, TODAY) == (before[0] - 499_900, before[1] - 499_900)
    # Booking credits merchant_payable with the financed amount; the disbursement clears it.
    assert account_balance(session, "merchant_payable") == payable_before
    assert account_balance(session, "merchant_fee_income") == fees_before + 9_998  # on its normal (credit) side
    app = client.get(f"/api/v1/applications/{app_id}", headers=clerk).json()
    assert (app["status"], app["loan_id"], app["imei"]) == ("signed", signed["loan_id"], world.devices[2])
    # The same person may apply again once the application is signed (no longer open).
    assert client.post("/api/v1/applications", json=world.body(), headers=clerk).status_code != 409


def test_signing_needs_the_latest_contract(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    app_id = approved(client, world, clerk)
    contract(client, app_id, clerk)
    wrong = sign(client, app_id, clerk, "0" * 64, world.devices[2])
    assert (wrong.status_code, wrong.json()["error"]) == (409, "contract_mismatch")


def test_a_sold_imei_cannot_be_sold_again(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    from datetime import date

    from tests.origination.world import clean_id_number

    first = approved(client, world, clerk)
    assert sign(client, first, clerk, contract(client, first, clerk)["sha256"], world.devices[3]).status_code == 200
    second = approved(client, world, clerk, id_number=clean_id_number(date(1985, 1, 2)), phone="13912345678")
    again = sign(client, second, clerk, contract(client, second, clerk)["sha256"], world.devices[3])
    assert (again.status_code, again.json()["error"]) == (409, "imei_not_available")
    assert "已售出" in again.json()["message"] and "sold" not in again.json()["message"]  # a status in words


def test_merchant_statement_lists_the_disbursement(
    client: TestClient, world: World, clerk: dict[str, str], auth_headers: Any
) -> None:
    app_id = approved(client, world, clerk)
    assert sign(client, app_id, clerk, contract(client, app_id, clerk)["sha256"], world.devices[0]).status_code == 200
    owner = auth_headers("merchant_owner", world.merchant_id)
    url = f"/api/v1/merchants/{world.merchant_id}/statement?from={TODAY}&to={TODAY}"
    statement = client.get(url, headers=owner).json()
    assert statement["count"] == 1
    assert statement["totals"] == {"price": "5999.00", "down_payment": "1000.00", "financed": "4999.00",
                                   "subsidy": "0.00", "merchant_fee": "99.98", "amount": "4899.02"}
    stranger = auth_headers("merchant_owner", world.other_merchant_id)
    assert client.get(url, headers=stranger).status_code == 403


def test_interest_free_plan_deducts_the_subsidy_at_the_routed_funders_rate(
    client: TestClient, world: World, clerk: dict[str, str]
) -> None:
    app_id = approved(client, world, clerk, product="IF-MERCHANT", term=12, down_payment="599.90")
    offer = client.get(f"/api/v1/applications/{app_id}/offer", headers=clerk).json()
    assert offer["apr"] == "0.0000"
    signed = sign(client, app_id, clerk, contract(client, app_id, clerk)["sha256"], world.devices[1]).json()
    subsidy = signed["disbursement"]["subsidy"]
    assert subsidy == offer["merchant"]["subsidy"] != "0.00"
    # 5399.10 financed, 2% fee: disbursed = financed − subsidy − fee, to the fen.
    from decimal import Decimal

    assert Decimal(signed["disbursement"]["amount"]) == Decimal("5399.10") - Decimal(subsidy) - Decimal("107.98")


def test_paid_down_payment_is_recorded_on_the_application(
    client: TestClient, session: Session, world: World, clerk: dict[str, str]
) -> None:
    from fenqi.origination.hooks import down_payment_paid
    from fenqi.payments import handlers
    from fenqi.payments import service as payments

    # Registered with payments at start-up, which calls it when a down-payment order is settled.
    assert down_payment_paid in handlers.paid_handlers("down_payment")
    app_id = approved(client, world, clerk)
    signed = sign(client, app_id, clerk, contract(client, app_id, clerk)["sha256"], world.devices[0]).json()
    order = payments.get_order(session, signed["down_payment_order"]["out_trade_no"])
    assert order.application_id == app_id and order.purpose == "down_payment"
    assert client.get(f"/api/v1/applications/{app_id}", headers=clerk).json()["down_payment_paid"] is False
    down_payment_paid(session, order)
    assert client.get(f"/api/v1/applications/{app_id}", headers=clerk).json()["down_payment_paid"] is True


def _use_up(session: Session, code: str) -> None:
    from fenqi.funding.service import consume_quota

    f = get_funder(session, code)
    assert consume_quota(session, f, quota_left(session, f, TODAY)[0], TODAY)


def test_no_quota_left_anywhere_refuses_clearly(
    client: TestClient, session: Session, world: World, clerk: dict[str, str]
) -> None:
    _use_up(session, "FA")
    _use_up(session, "FB")
    response = client.post("/api/v1/applications", json=world.body(), headers={**clerk, "Accept-Language": "en"})
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["error"] == "quota_exhausted" and "quota" in body["message"]
    assert body["application"]["status"] == "unfunded"
    assert body["decision"]["outcome"] == "approve"


def test_quota_gone_between_contract_and_signature(
    client: TestClient, session: Session, world: World, clerk: dict[str, str]
) -> None:
    app_id = approved(client, world, clerk)
    doc = contract(client, app_id, clerk)
    _use_up(session, "FB")
    refused = sign(client, app_id, clerk, doc["sha256"], world.devices[0])
    assert (refused.status_code, refused.json()["error"]) == (409, "quota_exhausted")
    # Drawing the contract up again routes to the partner that still has quota, and signing works.
    again = contract(client, app_id, clerk)
    assert again["funder"] == "FA" and again["sha256"] != doc["sha256"]
    assert sign(client, app_id, clerk, again["sha256"], world.devices[0]).json()["funder"] == "FA"


def test_changing_the_plan_after_approval(client: TestClient, world: World, clerk: dict[str, str]) -> None:
    app_id = approved(client, world, clerk)
    response = client.put(f"/api/v1/applications/{app_id}/plan", headers=clerk,
                          params={"product": "EI-12", "term": 6, "down_payment": "1500.00"})
    assert response.status_code == 200, response.text
    plan = response.json()["plan"]
    assert (plan["term"], plan["down_payment"], plan["financed"]) == (6, "1500.00", "4499.00")


def test_retries_are_safe(client: TestClient, session: Session, world: World, clerk: dict[str, str]) -> None:
    key = {**clerk, "Idempotency-Key": "till-7-0001"}
    first = client.post("/api/v1/applications", json=world.body(), headers=key)
    again = client.post("/api/v1/applications", json=world.body(), headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    app_id = first.json()["application"]["id"]
    sha = contract(client, app_id, clerk)["sha256"]
    signed = sign(client, app_id, clerk, sha, world.devices[0])
    retried = sign(client, app_id, clerk, sha, world.devices[0])
    assert signed.status_code == retried.status_code == 200
    assert signed.json() == retried.json()
    assert session.scalar(select(func.count()).select_from(Disbursement)
                          .where(Disbursement.application_id == app_id)) == 1


def test_signature_and_cancellation_are_audited(
    client: TestClient, session: Session, world: World, clerk: dict[str, str]
) -> None:
    from fenqi.identity.models import AuditEntry

    app_id = approved(client, world, clerk)
    assert sign(client, app_id, clerk, contract(client, app_id, clerk)["sha256"], world.devices[0]).status_code == 200
    other = approved(client, world, clerk, id_number=_another_id(), phone="13912345678")
    assert client.post(f"/api/v1/applications/{other}/cancel", headers=clerk).status_code == 200
    actions = set(session.scalars(select(AuditEntry.action).where(
        AuditEntry.subject.in_([f"application:{app_id}", f"application:{other}"]))))
    assert actions == {"application.signed", "application.cancelled"}


def _another_id() -> str:
    from datetime import date

    from tests.origination.world import clean_id_number

    return clean_id_number(date(1985, 1, 2))


def test_missing_cjk_font_fails_clearly(
    client: TestClient, world: World, clerk: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fenqi.origination import contract_pdf

    monkeypatch.setattr(contract_pdf, "FONT_DIRS", ("/nonexistent",))
    monkeypatch.delenv("FENQI_CJK_FONT", raising=False)
    app_id = approved(client, world, clerk)
    response = client.post(f"/api/v1/applications/{app_id}/contract", headers={**clerk, "Accept-Language": "en"})
    assert response.status_code == 503
    assert response.json()["error"] == "contract_font_missing"
    assert "fonts-noto-cjk" in response.json()["message"]


def test_handing_over_another_phone_than_the_one_reserved(
    client: TestClient, session: Session, world: World, clerk: dict[str, str]
) -> None:
    app_id = approved(client, world, clerk, imei=world.devices[0])
    assert get_device(session, world.devices[0]).status == "reserved"
    second_imei = get_device(session, world.devices[1]).imei2
    assert second_imei is not None
    signed = sign(client, app_id, clerk, contract(client, app_id, clerk)["sha256"], second_imei)
    assert signed.status_code == 200, signed.text
    assert signed.json()["imei"] == world.devices[1]
    assert get_device(session, world.devices[0]).status == "in_stock"
    assert get_device(session, world.devices[1]).status == "sold"
