"""`fenqi quote` and `POST /api/v1/quotes` agree with each other and refuse bad input the same way."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fenqi.cli import app
from fenqi.kit.clock import set_business_date
from fenqi.pricing.service import seed_products

runner = CliRunner()

CASES = [
    {"price": "5999", "down_payment": "1000", "term": "12", "method": "equal-installment", "annual_rate": "0.12"},
    {"price": "5999", "down_payment": "0", "term": "24", "method": "equal-principal", "annual_rate": "0.1"},
    {"price": "3299.50", "down_payment": "329.95", "term": "6", "method": "flat-fee", "fee_rate": "0.006"},
    {"price": "8999", "down_payment": "899.90", "term": "12", "method": "interest-free"},
    {"price": "1999", "down_payment": "0", "term": "3", "method": "equal-installment", "annual_rate": "0"},
]
STARTS = ["2026-01-31", "2026-02-28", "2027-12-31", "2026-08-30"]


def cli_quote(fields: dict[str, str], start: str) -> dict[str, object]:
    args = ["quote", "--json", "--start", start]
    for key, value in fields.items():
        args += [f"--{key.replace('_', '-')}", value]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("fields", CASES, ids=[c["method"] + c["term"] for c in CASES])
def test_cli_and_api_agree(client: TestClient, fields: dict[str, str], start: str) -> None:
    from_cli = cli_quote(fields, start)
    response = client.post("/api/v1/quotes", json={**fields, "start": start})
    assert response.status_code == 200, response.text
    assert response.json() == from_cli
    assert from_cli["installments"][0]["due_date"] != start  # type: ignore[index]
    total = sum(Decimal(i["total"]) for i in from_cli["installments"])  # type: ignore[attr-defined,union-attr]
    assert Decimal(str(from_cli["total_repayment"])) == total


def test_json_shape_is_exactly_as_documented(client: TestClient) -> None:
    body = client.post(
        "/api/v1/quotes",
        json={"price": "5999", "down_payment": "1000", "term": 12, "method": "equal-installment",
              "annual_rate": "0.12", "start": "2026-01-15"},
    ).json()
    assert list(body) == ["price", "down_payment", "financed", "method", "term", "annual_rate", "fee_rate", "apr",
                          "total_interest", "total_fee", "total_repayment", "installments"]
    assert body["price"] == "5999.00" and body["financed"] == "4999.00" and body["term"] == 12
    assert body["annual_rate"] == "0.1200" and body["fee_rate"] == "0.0000" and body["apr"] == "0.1200"
    first = body["installments"][0]
    assert first == {"period": 1, "due_date": "2026-02-15", "principal": "394.17", "interest": "49.99",
                     "fee": "0.00", "total": "444.16", "remaining_principal": "4604.83"}
    assert body["total_interest"] == "330.87" and body["total_repayment"] == "5329.87"


def test_start_defaults_to_the_business_date(client: TestClient, session: Session) -> None:
    set_business_date(session, date(2026, 3, 31))
    body = client.post("/api/v1/quotes", json={"price": "1200", "term": 3, "method": "interest-free"}).json()
    assert [i["due_date"] for i in body["installments"]] == ["2026-04-30", "2026-05-31", "2026-06-30"]


BAD = [
    ({"price": "0"}, "invalid_price"),
    ({"price": "-5"}, "invalid_price"),
    ({"price": "abc"}, "invalid_amount"),
    ({"price": "NaN"}, "invalid_amount"),
    ({"price": "5999.001"}, "amount_finer_than_fen"),
    ({"down_payment": "-1"}, "invalid_down_payment"),
    ({"down_payment": "5999"}, "invalid_down_payment"),
    ({"down_payment": "10.005"}, "amount_finer_than_fen"),
    ({"method": "balloon"}, "unknown_method"),
    ({"term": "0"}, "invalid_term"),
    ({"term": "61"}, "invalid_term"),
    ({"term": "1.5"}, "invalid_term"),
    ({"annual_rate": "-0.1"}, "invalid_rate"),
    ({"annual_rate": "0.30"}, "apr_above_cap"),
    ({"method": "flat-fee", "annual_rate": "0", "fee_rate": "0.03"}, "apr_above_cap"),
    ({"method": "flat-fee", "annual_rate": "0.1"}, "rate_not_applicable"),
]
GOOD = {"price": "5999", "down_payment": "1000", "term": "12", "method": "equal-installment", "annual_rate": "0.12"}


@pytest.mark.parametrize(("override", "code"), BAD, ids=[c for _, c in BAD])
def test_bad_input_is_refused_clearly(client: TestClient, override: dict[str, str], code: str) -> None:
    fields = {**GOOD, **override}
    zh = client.post("/api/v1/quotes", json=fields, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    en = client.post("/api/v1/quotes", json=fields, headers={"Accept-Language": "en-US,en;q=0.8"})
    assert 400 <= zh.status_code < 500 and zh.json()["error"] == code
    assert en.json()["error"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.json()["message"])  # Chinese for a Chinese reader
    assert en.json()["message"].isascii()
    args = ["quote"] + [a for k, v in fields.items() for a in (f"--{k.replace('_', '-')}", v)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_malformed_json_is_422_with_the_error_shape(client: TestClient) -> None:
    response = client.post("/api/v1/quotes", json={"price": ["5999"], "term": 12, "method": "flat-fee"})
    assert response.status_code == 422 and response.json()["error"] == "malformed_request"


def test_the_installed_command_prints_a_table_and_exits_2_on_bad_input() -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "fenqi", "quote", "--price", "5999", "--down-payment", "1000", "--term", "12",
         "--method", "equal-installment", "--annual-rate", "0.12", "--start", "2026-01-31"],
        capture_output=True, text=True, check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "12.00%" in ok.stdout and "444.16" in ok.stdout and "2026-02-28" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "fenqi", "quote", "--price", "-1", "--term", "12", "--method", "flat-fee"],
        capture_output=True, text=True, check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1


def test_plan_menu_endpoint(client: TestClient, session: Session) -> None:
    seed_products(session)
    body = client.get("/api/v1/plans", params={"price": "5999"}).json()
    assert body["price"] == "5999.00"
    plans = body["plans"]
    assert {p["term"] for p in plans} == {3, 6, 12, 24}
    assert {p["method"] for p in plans} == {"equal-installment", "equal-principal", "flat-fee", "interest-free"}
    assert all(Decimal(p["apr"]) <= Decimal("0.24") for p in plans)
    assert all(Decimal(p["merchant_subsidy"]) > 0 for p in plans if p["method"] == "interest-free")
    bad = client.get("/api/v1/plans", params={"price": "-3"}, headers={"Accept-Language": "en"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_price"


def test_home_page_shows_plans_with_apr(client: TestClient, session: Session) -> None:
    seed_products(session)
    page = client.get("/calculator?price=4999")
    assert page.status_code == 200 and "年化利率" in page.text and "text/html" in page.headers["content-type"]
    english = client.get("/calculator?price=4999&lang=en")
    assert "APR" in english.text
    assert "请" not in client.get("/calculator?price=-1&lang=en").text
    assert client.get("/docs").status_code == 200
