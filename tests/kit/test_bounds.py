"""Bounds where input enters (fenqi.kit.bounds): amounts ≤ 10⁹ yuan with at most two decimals, strings or
numbers only; ids 1..2⁶³−1; request bodies ≤ 1 MiB. Refusals are the usual error body, at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Annotated, Any, get_args, get_origin

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from fenqi.kit.bounds import (
    AMOUNT_MARK,
    AMOUNT_TEXT_MARK,
    ID_MARK,
    ID_TEXT_MARK,
    MAX_ID,
    amount_value,
    id_value,
)
from fenqi.kit.errors import DomainError
from fenqi.kit.money import MAX_YUAN, parse_yuan

Headers = Callable[..., dict[str, str]]
QUOTE = {"term": 12, "method": "flat-fee", "fee_rate": "0.006", "start": "2026-01-15"}
HUGE = ["1" * 28, "9" * 40, "1E+30", "1e30", 10**40, 1e30, "NaN", "Infinity", "-Infinity", "1" * 5000]


@pytest.mark.parametrize("price", HUGE)
def test_oversized_or_odd_amounts_on_quotes_are_refused(client: TestClient, price: object) -> None:
    response = client.post("/api/v1/quotes", json={**QUOTE, "price": price})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] in ("amount_too_large", "invalid_amount")
    assert "price" in body["message"] and "金额" in body["message"]


def test_the_refusal_speaks_english_on_request(client: TestClient) -> None:
    response = client.post("/api/v1/quotes", json={**QUOTE, "price": "9" * 40}, headers={"Accept-Language": "en"})
    assert response.json() == {"error": "amount_too_large", "fields": ["body.price"],
                               "message": "Amount (price) is above the limit of 1000000000.00 yuan"}


@pytest.mark.parametrize("value", [True, False, None, [5999], {"yuan": 5999}])
def test_only_strings_and_numbers_are_amounts(client: TestClient, value: object) -> None:
    """JSON `true` is not ¥1.00: a wrong type is a malformed request."""
    response = client.post("/api/v1/quotes", json={**QUOTE, "price": value})
    assert response.status_code == 422
    assert response.json()["error"] == "malformed_request"
    assert response.json()["fields"] == ["body.price"]


def test_amounts_at_the_bound_are_accepted_and_one_fen_more_is_not() -> None:
    assert parse_yuan("1000000000.00") == MAX_YUAN
    assert parse_yuan(-1_000_000_000) == -MAX_YUAN
    for over in ("1000000000.01", 1_000_000_001, 1000000000.5, Decimal("1E+9") + Decimal("0.01")):
        with pytest.raises(DomainError) as caught:
            parse_yuan(over)
        assert caught.value.code == "amount_too_large"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                 st.decimals(allow_nan=True, allow_infinity=True), st.booleans(), st.none()))
def test_any_input_is_either_a_bounded_fen_amount_or_a_refusal(raw: object) -> None:
    """Never an exception other than the refusal, never more than 10⁹ yuan, never finer than a fen."""
    try:
        value = amount_value(raw)
    except ValueError:  # pydantic's refusal (PydanticCustomError is a ValueError)
        return
    assert abs(value) <= MAX_YUAN
    assert value == value.quantize(Decimal("0.01"))
    assert not isinstance(raw, bool)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(), st.text(max_size=40), st.booleans(), st.floats()))
def test_any_input_is_either_an_id_in_range_or_a_refusal(raw: object) -> None:
    try:
        value = id_value(raw)
    except ValueError:
        return
    assert 1 <= value <= MAX_ID and not isinstance(raw, bool)


@pytest.mark.parametrize("price", ["1E+30", "9" * 40, "NaN", "0.001"])
def test_plans_query_string_refuses_odd_prices(client: TestClient, price: str) -> None:
    response = client.get("/api/v1/plans", params={"price": price})
    assert response.status_code == 400
    assert response.json()["error"] in ("amount_too_large", "invalid_amount", "amount_finer_than_fen")


@pytest.mark.parametrize("raw", [str(MAX_ID + 1), str(2**64), "9" * 40, "0", "-1", "1.5", "1e3", "٣"])
def test_ids_out_of_range_in_paths_are_refused(client: TestClient, auth_headers: Headers, raw: str) -> None:
    finance = auth_headers("finance")
    for path in (f"/api/v1/loans/{raw}", f"/api/v1/loans/{raw}/payoff",
                 f"/api/v1/payments/reconciliations/{raw}/items"):
        response = client.get(path, headers=finance)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error"] == "invalid_id"
        assert "1 到 9223372036854775807" in response.json()["message"]


def test_the_largest_id_is_looked_up_not_refused(client: TestClient, auth_headers: Headers) -> None:
    response = client.get(f"/api/v1/loans/{MAX_ID}", headers=auth_headers("finance"))
    assert response.status_code == 404


def test_ids_in_bodies_and_query_strings_are_bounded(client: TestClient, auth_headers: Headers) -> None:
    order = {"purpose": "installment", "amount": "10.00", "channel": "alipay", "loan_id": 2**64}
    response = client.post("/api/v1/payments/orders", json=order, headers=auth_headers("shopper"))
    assert response.status_code == 400 and response.json()["error"] == "invalid_id"
    assert response.json()["fields"] == ["body.loan_id"]
    truthy = client.post("/api/v1/payments/orders", json={**order, "loan_id": True}, headers=auth_headers("shopper"))
    assert truthy.status_code == 422  # `true` is not loan 1
    stores = client.get("/api/v1/catalog/stores", params={"merchant_id": str(MAX_ID + 1)},
                        headers=auth_headers("clerk"))
    assert stores.status_code == 400 and stores.json()["error"] == "invalid_id"


def test_true_is_not_one_yuan_on_a_repayment(client: TestClient, auth_headers: Headers) -> None:
    response = client.post("/api/v1/loans/1/repayments", json={"amount": True},
                           headers={**auth_headers("finance"), "Idempotency-Key": "k1"})
    assert response.status_code == 422 and response.json()["fields"] == ["body.amount"]


def test_risk_input_amounts_are_bounded(client: TestClient, auth_headers: Headers) -> None:
    facts = {"age": 30, "monthly_income": "9" * 40, "financed": "4999.00", "installment": "444.17", "term": 12,
             "id_hash": "a" * 64, "phone_hash": "b" * 64}
    response = client.post("/api/v1/risk/decisions", json=facts, headers=auth_headers("risk_officer"))
    assert response.status_code == 400 and response.json()["error"] == "amount_too_large"
    assert "monthly_income" in response.json()["message"]


# --- pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("price", ["1E+30", "9" * 40, "Infinity"])
def test_the_home_page_shows_a_refused_price_inline(client: TestClient, price: str) -> None:
    response = client.get("/calculator", params={"price": price})
    assert response.status_code == 200
    assert "金额" in response.text and "plan-card" not in response.text


def test_a_page_address_with_an_id_out_of_range_is_a_page_not_json(client: TestClient, auth_headers: Headers) -> None:
    response = client.get(f"/ops/loans/{2**64}", headers={**auth_headers("finance"), "Accept": "text/html"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "编号无效（链接中的值）" in response.text and "invalid_id" not in response.text
    assert 'href="/ops"' in response.text


# --- body size -----------------------------------------------------------------------------------


def test_a_body_declared_over_1_mib_is_refused_with_the_error_body(client: TestClient) -> None:
    body = b'{"price": "5999", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post("/api/v1/quotes", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"error": "body_too_large", "message": "请求内容过大：不得超过 1 MiB"}
    callback = client.post("/api/v1/payments/callbacks/alipay", content=b"a=" + b"1" * (1024 * 1024 + 1),
                           headers={"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "en"})
    assert callback.status_code == 413
    assert callback.json()["message"] == "The request body is too large: at most 1 MiB"


def test_a_streamed_body_without_a_length_is_cut_off_at_1_mib(client: TestClient) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(40):  # 2.5 MiB in 64 KiB chunks, no Content-Length
            sent.append(1)
            yield b" " * 65536

    response = client.post("/api/v1/quotes", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"


def test_a_streamed_body_under_the_cap_goes_through(client: TestClient) -> None:
    import json

    payload = json.dumps({**QUOTE, "price": "5999.00", "down_payment": "1000.00"}).encode()

    def chunks() -> Iterator[bytes]:
        yield payload[:10]
        yield payload[10:]

    response = client.post("/api/v1/quotes", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json()["price"] == "5999.00"


# --- every amount and id in the API uses the bounded types -----------------------------------------

AMOUNT_NAMES = {"price", "amount", "down_payment", "monthly_income", "financed", "installment", "daily_quota",
                "monthly_quota", "financed_min", "financed_max", "late_fee"}


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _marked(schema: dict[str, Any], mark: str) -> bool:
    if schema.get(mark):
        return True
    return any(_marked(s, mark) for s in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []))


def _properties(
    spec: dict[str, Any], schema: dict[str, Any], path: str, seen: set[str]
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen = seen | {schema["$ref"]}
    schema = _resolve(spec, schema)
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}.{name}", name, prop
        for sub in [prop, prop.get("items", {}), *prop.get("anyOf", [])]:
            if isinstance(sub, dict):
                yield from _properties(spec, sub, f"{path}.{name}", seen)


def test_every_amount_and_id_in_the_openapi_uses_the_bounded_types(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    checked, wrong = [], []
    for route, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {route}"
            fields: list[tuple[str, str, dict[str, Any]]] = [
                (f"{where} {p['in']}.{p['name']}", p["name"], p["schema"]) for p in op.get("parameters", [])
            ]
            for content in op.get("requestBody", {}).get("content", {}).values():
                fields += list(_properties(spec, content["schema"], f"{where} body", set()))
            for label, name, schema in fields:
                schema = _resolve(spec, schema)
                if _is_id(name) or name == "merchant":
                    checked.append(label)
                    if not _marked(schema, ID_MARK):
                        wrong.append(f"{label}: not an EntityId")
                if name in AMOUNT_NAMES:
                    checked.append(label)
                    if not (_marked(schema, AMOUNT_MARK) or _marked(schema, AMOUNT_TEXT_MARK)):
                        wrong.append(f"{label}: not an Amount")
    assert not wrong, "\n".join(wrong)
    assert len(checked) >= 30  # the walk did find the API's ids and amounts


def test_every_id_and_amount_of_the_pages_uses_the_bounded_types(client: TestClient) -> None:
    """Pages are not in the OpenAPI: walk the routes' parameters (path, query, form) instead."""
    from fastapi.routing import iter_route_contexts

    def metadata(annotation: Any) -> Iterator[Any]:
        """The Annotated metadata anywhere in a parameter's type (`EntityId | None` included)."""
        if get_origin(annotation) is Annotated:
            yield from get_args(annotation)[1:]
            annotation = get_args(annotation)[0]
        for arg in get_args(annotation):
            yield from metadata(arg)

    def marks(field: Any) -> set[str]:
        found = set()
        for meta in [*field.field_info.metadata, *metadata(field.field_info.annotation)]:
            schema = getattr(meta, "json_schema", None) or {}
            found |= {k for k in (ID_MARK, ID_TEXT_MARK, AMOUNT_MARK, AMOUNT_TEXT_MARK) if _marked(schema, k)}
        return found

    def flat(dependant: Any) -> Iterator[Any]:
        yield dependant
        for sub in dependant.dependencies:
            yield from flat(sub)

    app = client.app
    wrong, checked = [], 0
    for route in iter_route_contexts(app.routes):  # type: ignore[attr-defined]
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        for dep in flat(dependant):
            for field in dep.path_params + dep.query_params + dep.body_params:
                name = field.alias or field.name
                if _is_id(name) or name == "merchant":
                    checked += 1
                    if not marks(field) & {ID_MARK, ID_TEXT_MARK}:
                        wrong.append(f"{getattr(route, 'path', route)} {name}: not an EntityId")
                elif name in AMOUNT_NAMES:
                    checked += 1
                    if not marks(field) & {AMOUNT_MARK, AMOUNT_TEXT_MARK}:
                        wrong.append(f"{getattr(route, 'path', route)} {name}: not an Amount")
    assert not wrong, "\n".join(wrong)
    assert checked >= 40


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("get", "/api/v1/catalog/skus/IP16%00", {}),
    ("get", "/api/v1/catalog/skus?brand=Apple%00", {}),
    ("post", "/api/v1/quotes", {"json": {**QUOTE, "price": "5999", "method": "flat-fee\u0000"}}),
    ("post", "/login/staff", {"data": {"username": "a\x00", "password": "x"}}),
])
def test_a_nul_character_anywhere_is_refused(client: TestClient, method: str, path: str, kwargs: Any) -> None:
    """PostgreSQL text cannot hold NUL: refused where it enters rather than failing in the database; a page
    (the sign-in form) is refused with its error page, the API with its error body."""
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json() == {"error": "nul_character", "message": "输入中含有不允许的空字符（NUL）"}
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert "输入中含有不允许的空字符（NUL）" in response.text
