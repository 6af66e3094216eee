"""The API's error answers are documented (the OpenAPI lists each operation's statuses with the error
body) and a 405 names the methods the path does accept."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_a_405_carries_allow_with_every_method_of_the_path(client: TestClient) -> None:
    response = client.put("/api/v1/products")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert response.json() == {"error": "method_not_allowed", "message": "此地址不接受这种请求方法（见 Allow）"}
    quotes = client.delete("/api/v1/quotes", headers={"Accept-Language": "en"})
    assert quotes.status_code == 405 and quotes.headers["allow"] == "POST"
    assert quotes.json()["message"] == "This address does not accept that method (see Allow)"
    loan = client.delete("/api/v1/loans/1")
    assert loan.status_code == 405 and loan.headers["allow"] == "GET, HEAD"


def test_every_operation_documents_its_error_answers(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "message"}
    missing = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            expected = {"400", "405", "413", "422"}
            if "{" in path:
                expected.add("404")
            if not path.startswith(("/api/v1/payments/callbacks", "/api/v1/quotes", "/api/v1/plans",
                                    "/api/v1/consents", "/healthz", "/api/v1/devices/public-key")) and not (
                    method == "get" and path.startswith(("/api/v1/products", "/api/v1/catalog/skus"))):
                expected |= {"401", "403"}
            for status in sorted(expected - statuses):
                missing.append(f"{method.upper()} {path}: {status}")
            if path.startswith("/api/v1/payments/callbacks"):
                continue  # the channels' own answers (plain `fail`, `{"code": "FAIL"}`), documented as such
            for status in expected & statuses:
                content = operation["responses"][status].get("content", {}).get("application/json", {})
                if content.get("schema", {}).get("$ref") != "#/components/schemas/ErrorBody":
                    missing.append(f"{method.upper()} {path}: {status} without the error body")
    assert not missing, "\n".join(missing)
