"""The route index (fenqi.kit.routeindex) chooses what the plain walk through the route table chooses.

Every route of the real app is called on its own path (params filled in), with a method it does not
answer, with a slash added and with a segment more, and a list of paths no route has is called too —
each on an app with the index and on one without, over the real ASGI stack and the test's transaction.
Both must pick the same endpoint (read off the request's scope after the answer) and answer the same
status, `Allow` and `Location`: the same route, the same 405, the same trailing-slash redirect, the
same 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.types import Receive, Scope, Send

from fenqi.kit.routeindex import RouteIndex, literal_prefix
from fenqi.kit.web import get_lazy_session, get_session

SAMPLES = {"int": "7", "float": "1.5", "path": "a/b", "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}
BAD_PATHS = [
    "/", "//", "/nope", "/nope/", "/api", "/api/", "/api/v1", "/api/v1/", "/api/v1/nope", "/api/v2/applications",
    "/HEALTHZ", "/healthz/", "//healthz", "/healthz/x", "/docs/", "/docs/x", "/openapi.json/", "/shop/",
    "/shop/nope/x/y", "/ops", "/ops/", "/ops/nope", "/api/v1/applications/", "/api/v1/applications/x/y/z",
    "/api/v1/devices/checkin/", "/%E4%B8%AD%E6%96%87", "/static", "/static/", "/a/b/c/d/e/f",
]


def _concrete(path: str) -> str:
    """A path of the route's template with each parameter filled in with a value its convertor takes."""
    return re.sub(r"\{(\w+)(?::(\w+))?\}", lambda m: SAMPLES.get(m.group(2) or "", "x1"), path)


@pytest.fixture(scope="module")
def apps(engine: Any) -> tuple[Any, Any]:
    from fenqi.api import create_app

    # Without the fast lane, so that every request (callbacks and check-ins too) goes through the routes.
    return create_app(fast_lane=False, route_index=False), create_app(fast_lane=False)


def _recorded(app: Any, seen: list[Any]) -> Any:
    """`app`, noting after each request the endpoint the router chose (None: none)."""

    async def recorder(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                route = scope.get("route")
                seen.append((getattr(scope.get("endpoint"), "__qualname__", None), getattr(route, "path", None)))

    return recorder


@pytest.fixture()
def clients(session: Session, apps: tuple[Any, Any]) -> Iterator[tuple[Any, Any]]:
    def _session() -> Iterator[Session]:
        yield session
        session.flush()

    for app in apps:
        app.dependency_overrides[get_session] = _session
        app.dependency_overrides[get_lazy_session] = _session
    plain_seen: list[Any] = []
    indexed_seen: list[Any] = []
    try:
        yield ((TestClient(_recorded(apps[0], plain_seen), raise_server_exceptions=False), plain_seen),
               (TestClient(_recorded(apps[1], indexed_seen), raise_server_exceptions=False), indexed_seen))
    finally:
        for app in apps:
            app.dependency_overrides.clear()


def _requests(app: Any) -> list[tuple[str, str]]:
    requests: list[tuple[str, str]] = []
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        concrete = _concrete(path)
        methods = sorted(route.methods or {"GET"})
        other = next(m for m in ("DELETE", "PUT", "PATCH") if m not in methods)
        requests += [(methods[0], concrete), (other, concrete), ("GET", concrete + "/"), ("GET", concrete + "/x")]
    return requests + [(method, path) for path in BAD_PATHS for method in ("GET", "POST")]


def test_the_index_chooses_as_the_walk_does(clients: tuple[Any, Any], apps: tuple[Any, Any]) -> None:
    (plain, plain_seen), (indexed, indexed_seen) = clients
    requests = _requests(apps[0])
    assert len(requests) > 1000  # every route of the app, four ways
    differences = []
    statuses = set()
    for method, path in requests:
        answers = []
        for client in (plain, indexed):
            response = client.request(method, path, follow_redirects=False)
            answers.append((response.status_code, response.headers.get("allow"), response.headers.get("location")))
        statuses.add(answers[0][0])
        if answers[0] != answers[1] or plain_seen[-1] != indexed_seen[-1]:
            differences.append((method, path, answers, plain_seen[-1], indexed_seen[-1]))
    assert differences == []
    # The comparison saw what it is about: endpoints chosen, 405s, redirects and 404s.
    assert sum(1 for endpoint, _ in indexed_seen if endpoint) > len(requests) // 2
    assert {404, 405, 307} <= statuses


def test_a_request_is_tried_against_few_routes(apps: tuple[Any, Any]) -> None:
    """The point of the index: `/healthz` (the table's last route) and an application are looked up
    among one or two of the table's routes, not all of them."""
    index = apps[1].router.middleware_stack
    assert isinstance(index, RouteIndex)
    table = len(apps[1].router.routes)
    assert table > 15
    assert [getattr(route, "path", None) for route in index.candidates("/healthz").routes] == ["/healthz"]
    assert len(index.candidates("/api/v1/applications").routes) <= 2
    assert len(index.candidates("/no/such/page").routes) < table


def test_routes_added_later_are_indexed(engine: Any) -> None:
    from fenqi.api import create_app

    app = create_app(fast_lane=False)
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/later").status_code == 404  # the index is built, without the route

    @app.get("/later")
    async def later() -> dict[str, str]:
        return {"later": "yes"}

    assert client.get("/later").json() == {"later": "yes"}


def test_literal_prefixes() -> None:
    assert literal_prefix("/api/v1/applications/{id}") == ("api", "v1", "applications")
    assert literal_prefix("/ops/experiments/{code}.csv") == ("ops", "experiments")
    assert literal_prefix("/{anything}") == ()
    assert literal_prefix("/shop/") == ("shop",)  # a slash more or less looks up the same routes
    assert literal_prefix("/") == ("",)
