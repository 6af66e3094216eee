"""Submitting an application under an Idempotency-Key (fenqi.kit.idempotency): the same body again gets the
same application back; the same key with another body is refused (409) and submits nothing; another clerk's
identical key is another request with its own application."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.origination.models import Application
from tests.origination.world import World, clean_id_number

URL = "/api/v1/applications"


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Application)) or 0)


def test_a_key_is_one_submission_of_one_clerk(
    client: TestClient, session: Session, world: World, auth_headers: Callable[..., dict[str, str]]
) -> None:
    alice, bob = auth_headers("clerk", world.merchant_id), auth_headers("clerk", world.merchant_id)
    first = client.post(URL, json=world.body(), headers={**alice, "Idempotency-Key": "till-1"})
    assert first.status_code == 201, first.text
    n = _count(session)
    again = client.post(URL, json=world.body(), headers={**alice, "Idempotency-Key": "till-1"})
    assert (again.status_code, again.json()) == (201, first.json()) and _count(session) == n

    # Another shopper's application under the key already used: refused, not answered with the first one.
    other = world.body(name="李四", id_number=clean_id_number(date(1985, 1, 2)), phone="13912345678")
    refused = client.post(URL, json=other, headers={**alice, "Idempotency-Key": "till-1"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "idempotency_key_reused" and "内容不同" in refused.json()["message"]
    assert str(first.json()["application"]["id"]) not in refused.text and _count(session) == n
    english = client.post(URL, json=other, headers={**alice, "Idempotency-Key": "till-1", "Accept-Language": "en"})
    assert english.status_code == 409 and "different body" in english.json()["message"]

    # Another clerk with the same key: their own submission, with its own application.
    theirs = client.post(URL, json=other, headers={**bob, "Idempotency-Key": "till-1"})
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["application"]["id"] != first.json()["application"]["id"] and _count(session) == n + 1
