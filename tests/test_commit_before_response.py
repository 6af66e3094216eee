"""A request's transaction is committed before its response leaves the server.

Otherwise a browser that follows a redirect at once can read before the commit, and a failing commit
would come after a success already reported. Driven through the ASGI interface directly, so the test
sees the order in which the commit and the response happen.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fenqi.api import create_app


def _order_of_commit_and_response(method: str, path: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    events: list[str] = []
    real_commit = Session.commit

    def commit(self: Session) -> None:
        real_commit(self)
        events.append("commit")

    monkeypatch.setattr(Session, "commit", commit)
    app = create_app()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/x-www-form-urlencoded")],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            events.append(f"response {message['status']}")

    anyio.run(app, scope, receive, send)
    return events


def test_page_commits_before_it_responds(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _order_of_commit_and_response("GET", "/login/verify", monkeypatch) == ["commit", "response 200"]


def test_form_post_commits_before_it_responds(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    # A sign-in without its CSRF token: refused and re-rendered, and the request still commits first.
    assert _order_of_commit_and_response("POST", "/login/staff", monkeypatch) == ["commit", "response 403"]


def test_every_route_closes_its_session_before_responding() -> None:
    """Every endpoint takes its session as `SessionDep`/`LazySessionDep` (the "function" scope), so
    no route's session outlives its endpoint; a plain `Depends(get_session)` would slip back to the
    "request" scope, where the commit follows the response."""
    from fastapi.dependencies.models import Dependant

    from fenqi.kit.web import get_lazy_session, get_session

    sessions = (get_session, get_lazy_session)
    late: list[str] = []

    def walk(path: str, dependant: Dependant) -> None:
        for sub in dependant.dependencies:
            if sub.call in sessions and sub.scope != "function":
                late.append(path)
            walk(path, sub)

    for route in create_app().routes:
        dependant = getattr(route, "dependant", None)
        if dependant is not None:
            walk(getattr(route, "path", "?"), dependant)
    assert not late, f"routes whose session closes after the response: {sorted(set(late))}"
