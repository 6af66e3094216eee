"""Two requests under one Idempotency-Key at the same moment, each in its own transaction
(fenqi.kit.idempotency.bind): the second waits for the first; with the same body it gets the same
reference (so the domain replays the first answer), with another body it is refused."""

from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.requests import Request

from fenqi.kit.idempotency import IdempotencyKeyReused, bind, fingerprint


def _request(body: bytes) -> Request:
    request = Request({"type": "http", "method": "POST", "path": "/api/v1/x", "headers": [], "query_string": b""})
    request.state.idempotency_fingerprint = fingerprint("POST", "/api/v1/x", body)
    return request


def _twins(engine: Engine, second_body: bytes) -> tuple[str | None, object]:
    key = uuid.uuid4().hex
    bound, released = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def first() -> None:
        with Session(engine) as s, s.begin():
            seen["first"] = bind(s, _request(b'{"a":1}'), 7, key)
            bound.set()
            released.wait(10)  # the twin is now waiting on this uncommitted row

    def second() -> None:
        bound.wait(10)
        try:
            with Session(engine) as s, s.begin():
                seen["second"] = bind(s, _request(second_body), 7, key)
        except Exception as exc:  # the test looks at what was raised
            seen["second"] = exc

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    bound.wait(10)
    time.sleep(0.5)
    assert "second" not in seen  # it waits for the first transaction
    released.set()
    for t in threads:
        t.join(20)
    return seen["first"], seen["second"]  # type: ignore[return-value]


@pytest.mark.skipif("postgresql" not in os.environ.get("FENQI_TEST_DATABASE_URL", ""),
                    reason="real concurrency needs PostgreSQL")
def test_a_concurrent_twin_gets_the_same_reference(engine: Engine) -> None:
    first, second = _twins(engine, b'{"a": 1}')
    assert isinstance(first, str) and second == first


@pytest.mark.skipif("postgresql" not in os.environ.get("FENQI_TEST_DATABASE_URL", ""),
                    reason="real concurrency needs PostgreSQL")
def test_a_concurrent_other_body_is_refused(engine: Engine) -> None:
    _, second = _twins(engine, b'{"a": 2}')
    assert isinstance(second, IdempotencyKeyReused)
