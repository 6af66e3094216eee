"""HTTP: loan detail, payoff quote, repayments (idempotent), trial balance and check; roles and errors."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.servicing.service import book_loan
from tests.servicing.support import fresh_book

Headers = Callable[..., dict[str, str]]


def _loan(session: Session) -> int:
    fresh_book(session)
    return book_loan(session, external_ref="api-1", product_code="EI-12", financed_fen=499_900, term=12).id


def test_loan_detail_has_figures_schedule_and_entries(
    session: Session, client: TestClient, auth_headers: Headers
) -> None:
    loan_id = _loan(session)
    r = client.get(f"/api/v1/loans/{loan_id}", headers=auth_headers("collector"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["loan"]["principal_outstanding"] == "4999.00" and body["loan"]["apr"] == "0.1200"
    assert len(body["schedule"]) == 12 and body["schedule"][0]["due_date"] == "2026-02-28"
    assert body["entries"][0]["reason"] == "loan_booked"
    assert {x["account"] for x in body["entries"][0]["lines"]} == {"principal_receivable", "merchant_payable"}
    assert client.get("/api/v1/loans/999999", headers=auth_headers("finance")).json()["error"] == "not_found"


def test_repayment_is_idempotent_by_key(session: Session, client: TestClient, auth_headers: Headers) -> None:
    loan_id = _loan(session)
    headers = {**auth_headers("finance"), "Idempotency-Key": "k-123"}
    first = client.post(
        f"/api/v1/loans/{loan_id}/repayments", json={"amount": "100.50", "channel": "bank"}, headers=headers
    )
    assert first.status_code == 201, first.text
    assert first.json()["allocated"]["credit_balance"] == "100.50" and not first.json()["replayed"]
    again = client.post(
        f"/api/v1/loans/{loan_id}/repayments", json={"amount": "100.50", "channel": "bank"}, headers=headers
    )
    assert again.status_code == 200 and again.json()["replayed"]
    assert again.json()["loan"]["credit_balance"] == "100.50"
    other = client.post(f"/api/v1/loans/{loan_id}/repayments", json={"amount": "1.00"}, headers=headers)
    assert other.status_code == 409 and other.json()["error"] == "idempotency_key_reused", other.text
    assert "内容不同" in other.json()["message"]
    # Another finance user with the same key and body: their own repayment, not a replay of the first.
    theirs = client.post(f"/api/v1/loans/{loan_id}/repayments", json={"amount": "100.50", "channel": "bank"},
                         headers={**auth_headers("finance"), "Idempotency-Key": "k-123"})
    assert theirs.status_code == 201 and not theirs.json()["replayed"], theirs.text
    assert theirs.json()["loan"]["credit_balance"] == "201.00"


def test_repayment_refuses_bad_input(session: Session, client: TestClient, auth_headers: Headers) -> None:
    loan_id = _loan(session)
    h = auth_headers("finance")
    url = f"/api/v1/loans/{loan_id}/repayments"
    assert client.post(url, json={"amount": "10"}, headers=h).json()["error"] == "invalid_input"  # no key
    keyed = {**h, "Idempotency-Key": "bad-1"}
    assert client.post(url, json={"amount": "-5"}, headers=keyed).status_code == 400
    assert client.post(url, json={"amount": "1.001"}, headers=keyed).json()["error"] == "amount_finer_than_fen"
    assert client.post(url, json={"amount": "abc"}, headers=keyed).json()["error"] == "invalid_amount"
    assert client.post(url, json={"amount": "1", "channel": "cash"}, headers=keyed).status_code == 422
    assert client.post("/api/v1/loans/424242/repayments", json={"amount": "1"}, headers=keyed).status_code == 404
    assert client.post(url, json={"amount": "10"}, headers={"Idempotency-Key": "x"}).status_code == 401
    assert (
        client.post(
            url, json={"amount": "10"}, headers={**auth_headers("collector"), "Idempotency-Key": "y"}
        ).status_code
        == 403
    )


def test_payoff_quote_then_payoff(session: Session, client: TestClient, auth_headers: Headers) -> None:
    loan_id = _loan(session)
    h = auth_headers("finance")
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff", headers=h).json()
    assert quote["total"] == "4999.00" and quote["date"] == "2026-01-31"
    later = client.get(f"/api/v1/loans/{loan_id}/payoff?date=2026-02-20", headers=h).json()
    assert later["interest"] != "0.00" and later["total"] > quote["total"]
    assert client.get(f"/api/v1/loans/{loan_id}/payoff?date=2025-01-01", headers=h).status_code == 400
    paid = client.post(
        f"/api/v1/loans/{loan_id}/repayments",
        json={"amount": quote["total"], "purpose": "payoff", "payment_ref": "po-1"},
        headers=h,
    )
    assert paid.status_code == 201 and paid.json()["loan"]["status"] == "paid_off"
    assert client.get(f"/api/v1/loans/{loan_id}/payoff", headers=h).json()["error"] == "loan_not_open"


def test_trial_balance_and_check(session: Session, client: TestClient, auth_headers: Headers) -> None:
    _loan(session)
    h = auth_headers("finance")
    tb = client.get("/api/v1/ledger/trial-balance", headers=h).json()
    assert tb["balanced"] and tb["total_debits"] == tb["total_credits"]
    rows = {r["account"]: r for r in tb["accounts"]}
    assert rows["principal_receivable"]["name_zh"] == "应收本金"
    assert client.get("/api/v1/ledger/check", headers=h).json()["ok"] is True
    assert client.get("/api/v1/ledger/trial-balance", headers=auth_headers("collector")).status_code == 403
