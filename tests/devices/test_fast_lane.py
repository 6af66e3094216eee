"""The fast lane (fenqi.kit.fastlane) answers exactly as the routes do: the same statuses, bodies and
headers for a good, a forged, a replayed and an oversized check-in or payment notification; a request it
cannot answer as the route would (a malformed body) goes on to the route. Compared against an app built
without the lane, both over the test's transaction; the lane alone is driven with an app behind it that
answers 599, so an answer that is not 599 is the lane's own."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from fenqi.devices.signing import verify
from fenqi.kit.fastlane import FastLane
from fenqi.kit.web import get_lazy_session, get_session
from tests.collections.support import sold
from tests.devices.support import enrol, public_key, the_device
from tests.origination.world import World

CHECKIN = "/api/v1/devices/checkin"
FELL_THROUGH = 599


@pytest.fixture(scope="module")
def routes_app(engine: Any) -> Any:
    from fenqi.api import create_app

    return create_app(fast_lane=False)


@pytest.fixture()
def lane_and_routes(session: Session, shared_app: Any, routes_app: Any) -> Iterator[tuple[TestClient, TestClient]]:
    """(the lane alone, the routes without the lane), both over the test's transaction."""
    from fenqi.api import fast_lanes
    from fenqi.domains import domain_modules

    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    async def behind(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("fell through", status_code=FELL_THROUGH)(scope, receive, send)

    for app in (shared_app, routes_app):
        app.dependency_overrides[get_session] = _session
        app.dependency_overrides[get_lazy_session] = _session
    lane = FastLane(behind, lanes=fast_lanes(domain_modules("api")), owner=shared_app)
    try:
        yield (TestClient(lane, raise_server_exceptions=False),
               TestClient(routes_app, raise_server_exceptions=False))
    finally:
        for app in (shared_app, routes_app):
            app.dependency_overrides.clear()


def same(a: Any, b: Any) -> None:
    assert a.status_code != FELL_THROUGH, "the lane passed a request it should answer"
    assert (a.status_code, a.content, a.headers.get("content-type"), a.headers.get("connection")) == (
        b.status_code, b.content, b.headers.get("content-type"), b.headers.get("connection"))


def test_checkin_lane_answers_as_the_route(
    client: TestClient, session: Session, world: World, auth_headers: Callable[..., dict[str, str]],
    lane_and_routes: tuple[TestClient, TestClient],
) -> None:
    lane, routes = lane_and_routes
    device = the_device(session, sold(session, world, imei=world.devices[0]).loan_id)
    token = enrol(client, auth_headers("clerk", world.merchant_id), device.id)
    key = public_key(client)

    def post(c: TestClient, counter: int, tok: str = token, **extra: Any) -> Any:
        body = {"imei": device.imei, "counter": counter, "nonce": "n" + secrets.token_hex(8)}
        return c.post(CHECKIN, json=body, headers={"X-Device-Token": tok, **extra})

    good = [post(lane, 5), post(routes, 6)]  # the counter moves: each its own
    assert [r.status_code for r in good] == [200, 200]
    answers = [r.json() for r in good]
    for answer in answers:
        assert verify(key, answer["payload"], answer["signature"])
    volatile = ("counter", "nonce", "issued_at")
    lane_payload, route_payload = ({k: v for k, v in a["payload"].items() if k not in volatile} for a in answers)
    assert lane_payload == route_payload and sorted(answers[0]) == sorted(answers[1])
    assert good[0].headers["content-type"] == good[1].headers["content-type"]

    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for lang in ("zh-CN", "en"):
        same(*(post(c, 100, forged, **{"Accept-Language": lang}) for c in (lane, routes)))
    replay = {"imei": device.imei, "counter": 6, "nonce": "replayed1"}
    a, b = (c.post(CHECKIN, json=replay, headers={"X-Device-Token": token}) for c in (lane, routes))
    assert a.status_code == 409
    same(a, b)
    big = b'{"imei": "' + b"1" * (1024 * 1024) + b'"}'
    a, b = (c.post(CHECKIN, content=big, headers={"X-Device-Token": token, "Content-Type": "application/json"})
            for c in (lane, routes))
    assert a.status_code == 413
    same(a, b)
    # Malformed: the lane passes it on; through the whole app (lane in front) it is the route's 422.
    bad = {"imei": device.imei, "counter": 0, "nonce": "short"}
    assert lane.post(CHECKIN, json=bad, headers={"X-Device-Token": token}).status_code == FELL_THROUGH
    a, b = (c.post(CHECKIN, json=bad, headers={"X-Device-Token": token}) for c in (client, routes))
    assert a.status_code == 422 and (a.status_code, a.content) == (b.status_code, b.content)


def test_payment_notification_lanes_answer_as_the_routes(lane_and_routes: tuple[TestClient, TestClient]) -> None:
    from bench.bench_payments import signed_notifications

    lane, routes = lane_and_routes
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    url = "/api/v1/payments/callbacks/alipay"
    # Genuine, signed notifications of an order this shop does not know: verified, then "try again later".
    genuine = signed_notifications(["FQLANE000001"], [12_300])[0]
    for _ in range(2):  # and again (a replay): the same
        same(lane.post(url, content=genuine, headers=form), routes.post(url, content=genuine, headers=form))
    forged = genuine.replace(b"total_amount=123.00", b"total_amount=0.01")
    a, b = (c.post(url, content=forged, headers=form) for c in (lane, routes))
    assert (a.status_code, a.text) == (400, "fail")
    same(a, b)
    big = b"a=" + b"1" * (1024 * 1024)
    for path in (url, "/api/v1/payments/callbacks/wechatpay"):
        a, b = (c.post(path, content=big, headers=form) for c in (lane, routes))
        assert a.status_code == 413
        same(a, b)
    wechat = "/api/v1/payments/callbacks/wechatpay"
    headers = {"Content-Type": "application/json", "Wechatpay-Signature": "forged", "Wechatpay-Serial": "x",
               "Wechatpay-Timestamp": "1", "Wechatpay-Nonce": "n"}
    a, b = (c.post(wechat, content=b'{"id": "EV1"}', headers=headers) for c in (lane, routes))
    assert a.status_code == 401
    same(a, b)
