"""The fast lane: machine-to-machine endpoints answered before the framework's routing.

A lock agent's check-in and a payment channel's notification are the busiest requests and the simplest:
one exact path and method, a body, no user, no page. The app (fenqi.api) puts `FastLane` outside its
own middleware, routing and dependency solving; a request on a lane's path and method gets the same
guards as every request (`BodyLimit`: size cap and NUL check) and then the lane's handler, which parses
and validates the body as the route would, runs the same service functions in the thread pool with the
request's session (the same session dependency, so `dependency_overrides` hold) and answers the same
bodies and statuses. A handler that cannot answer exactly as the route would — a malformed body, a
missing header, an unexpected content type — returns None and the request goes on to the app unchanged
(its body replayed), so every error the route gives, it still gives. The routes stay declared on the app
and document the endpoints in the OpenAPI. Domain errors are answered with the app's error body; any
other exception reaches the app's error middleware (500) as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from fenqi.kit.bodylimit import BodyLimit, replay_body
from fenqi.kit.db import Session
from fenqi.kit.errors import DomainError
from fenqi.kit.web import request_language

T = TypeVar("T")


def error_response(exc: DomainError, lang: str) -> JSONResponse:
    """The API's error body for a domain error (the app's handler answers the same for every JSON route)."""
    return JSONResponse({"error": exc.code, "message": exc.message(lang)}, status_code=exc.status)


@dataclass(frozen=True)
class LaneRequest:
    """What a lane's handler gets: the request (headers, client, language), its whole body (already within
    the size limit) and the app, whose session dependency (or its override) it uses."""

    request: Request
    body: bytes
    owner: Any  # the FastAPI app: its dependency_overrides

    async def with_session(self, dependency: Callable[..., Any], work: Callable[[Session], T]) -> T:
        """Run `work(session)` in the thread pool with the session `dependency` gives (as the route's
        `Depends(dependency)` would: the app's override if any), entered and left as the route does."""
        provider = self.owner.dependency_overrides.get(dependency, dependency)
        if inspect.isasyncgenfunction(provider):
            async with asynccontextmanager(provider)() as session:
                return await run_in_threadpool(work, session)

        def whole() -> T:  # enter, work and leave in one trip to the thread pool
            with contextmanager(provider)() as session:
                return work(session)

        return await run_in_threadpool(whole)


Handler = Callable[[LaneRequest], Awaitable[Response | None]]


class FastLane:
    """Dispatches the lanes' exact (method, path) pairs to their handlers; everything else goes to `app`."""

    def __init__(self, app: ASGIApp, lanes: dict[tuple[str, str], Handler], owner: Any) -> None:
        for _, path in lanes:
            assert path.startswith("/api/"), "a lane answers JSON API errors: API paths only"
        self.app = app
        self.lanes = lanes
        self.owner = owner
        self._guarded = BodyLimit(self._dispatch)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path") and (scope["method"], scope["path"]) in self.lanes:
            await self._guarded(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Behind the body guard: the lane's handler, or the app when the handler passes."""
        body = await _read(receive)
        if body is None:  # the client went away
            return
        request = Request(scope)
        try:
            response = await self.lanes[scope["method"], scope["path"]](LaneRequest(request, body, self.owner))
        except DomainError as exc:
            response = error_response(exc, request_language(request))
        if response is None:
            await self.app(scope, replay_body(body, receive), send)
            return
        await response(scope, receive, send)


async def _read(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
