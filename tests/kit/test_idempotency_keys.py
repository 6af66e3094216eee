"""An Idempotency-Key names one request of one caller: the same request again gets the first answer and
changes nothing; the same key with another body is refused (409, zh/en) instead of answered with the first
request's answer; another user's identical key is another request, whose answer neither sees of the other;
the same key on another method or path is another request too."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.aftersales.models import Complaint
from fenqi.kit.idempotency import fingerprint

Headers = Callable[..., dict[str, str]]
URL = "/api/v1/aftersales/complaints"


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Complaint)) or 0)


def test_a_key_is_one_request_of_one_caller(client: TestClient, session: Session, auth_headers: Headers) -> None:
    alice, bob = auth_headers("shopper"), auth_headers("shopper")
    body = {"category": "fees", "text": "月供比合同多收了10元"}
    first = client.post(URL, json=body, headers={**alice, "Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.text
    n = _count(session)
    # The same request again (the same JSON, written in another order and spacing): the same answer.
    again = client.post(URL, content='{"text": "月供比合同多收了10元",  "category": "fees"}',
                        headers={**alice, "Idempotency-Key": "k-1", "Content-Type": "application/json"})
    assert again.status_code == 201 and again.json() == first.json() and _count(session) == n

    # The same key with another body: refused, clearly, and nothing filed.
    other = client.post(URL, json={"category": "staff", "text": "店员态度差"},
                        headers={**alice, "Idempotency-Key": "k-1"})
    assert other.status_code == 409, other.text
    assert other.json()["error"] == "idempotency_key_reused" and "内容不同" in other.json()["message"]
    assert first.json()["text"] not in other.text
    english = client.post(URL, json={"category": "staff", "text": "x"},
                          headers={**alice, "Idempotency-Key": "k-1", "Accept-Language": "en"})
    assert english.status_code == 409 and "different body" in english.json()["message"]
    assert _count(session) == n

    # Another user with the very same key and body: their own complaint, not Alice's answer.
    theirs = client.post(URL, json=body, headers={**bob, "Idempotency-Key": "k-1"})
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != first.json()["id"] and _count(session) == n + 1
    mine = client.get(URL, headers=bob).json()["complaints"]
    assert [c["id"] for c in mine] == [theirs.json()["id"]]


def test_a_key_is_scoped_to_the_method_and_path(client: TestClient, auth_headers: Headers) -> None:
    shopper = auth_headers("shopper")
    filed = client.post(URL, json={"category": "device", "text": "屏幕坏点"},
                        headers={**shopper, "Idempotency-Key": "same"})
    assert filed.status_code == 201
    # The same key on another path is another request: it is not answered with the complaint.
    elsewhere = client.post(f"{URL}/{filed.json()['id']}/respond", json={"text": "x"},
                            headers={**shopper, "Idempotency-Key": "same"})
    assert elsewhere.status_code != 201 and "屏幕坏点" not in elsewhere.text


def test_the_fingerprint_reads_json_by_content_and_other_bodies_by_bytes() -> None:
    a = fingerprint("POST", "/p", b'{"a": 1, "b": [1, 2]}')
    assert a == fingerprint("post", "/p", b'{"b":[1,2],"a":1}')
    assert a != fingerprint("POST", "/p", b'{"a": 1, "b": [2, 1]}')
    assert a != fingerprint("PUT", "/p", b'{"a": 1, "b": [1, 2]}')
    assert a != fingerprint("POST", "/q", b'{"a": 1, "b": [1, 2]}')
    assert fingerprint("POST", "/p", b"\xff\xfe") != fingerprint("POST", "/p", b"\xff")
    assert fingerprint("POST", "/p", b"true") != fingerprint("POST", "/p", b'"true"')
