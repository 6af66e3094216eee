"""A route index: a request is matched only against the routes that could match its path.

FastAPI matches a request by walking the app's route table in order and trying each route's regular
expression; with a few hundred routes that walk is most of a simple request's CPU (for `/healthz`,
matched last, ~85%). Most routes begin with literal segments (`/api/v1/applications/{id}` begins with
`api`, `v1`, `applications`), and a route whose path begins with literal segments L can only match a
path whose segments begin with L. So the index keeps, for each such L, the sub-list of the app's
top-level routes (each included router counted as one route, with the literal prefixes of all the
routes inside it) that can match a path beginning with L — in the table's order — and the request is
dispatched by the router's own code (`APIRouter.app`) on that sub-list instead of the whole table.

The first-match semantics are unchanged because a sub-list holds, in order, every route that can match
the path *or* the path with a slash added or removed (the literal prefixes never contain an empty
segment, so `/a`, `/a/` and `/a//` look up the same routes): the first full match, the first partial
match (405), the trailing-slash redirect and the 404 are the ones the whole table gives. A route with no
literal first segment (a parameter first, a host, anything unknown) is in every sub-list. Anything but
HTTP (lifespan, websockets) goes to the router unchanged. The index is rebuilt when the router's routes
change (FastAPI's own routes version, which counts included routers' changes too).
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi.routing import APIRouter, _IncludedRouter
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Host
from starlette.types import Receive, Scope, Send

Prefix = tuple[str, ...]


def literal_prefix(path_format: str) -> Prefix:
    """The leading segments of a route's path that are plain text (no parameter, not empty); the root
    path `/` (which matches only `/`) has the prefix ("",), as a request for `/` is looked up."""
    if path_format == "/":
        return ("",)
    prefix: list[str] = []
    for segment in path_format.split("/")[1:]:
        if not segment or "{" in segment:
            break
        prefix.append(segment)
    return tuple(prefix)


def _prefixes(route: BaseRoute | Any) -> set[Prefix]:
    """Every literal prefix a path must begin with for `route` (or a route inside it) to match it."""
    if isinstance(route, _IncludedRouter):
        if _has_low_priority_routes(route):
            return {()}  # matched after the table (static frontends): take no chances
        return {p for leaf in route.effective_route_contexts() for p in _prefixes(leaf)}
    effective = getattr(route, "starlette_route", None) or route  # an included Mount, Route, …
    path_format = getattr(effective, "path_format", None)
    if isinstance(effective, Host) or not isinstance(path_format, str) or not path_format.startswith("/"):
        return {()}
    return {literal_prefix(path_format)}


def _has_low_priority_routes(route: _IncludedRouter) -> bool:
    return bool(route.original_router._low_priority_routes) or any(
        isinstance(child, _IncludedRouter) and _has_low_priority_routes(child)
        for child in route.effective_candidates()
    )


class RouteIndex:
    """The router's dispatch (its `middleware_stack`), looking up the routes a path can match first."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self._version: int | None = None
        self._subrouters: dict[Prefix, APIRouter] = {}
        self._depth = 0

    @classmethod
    def install(cls, router: APIRouter) -> RouteIndex:
        # Router-level middleware would sit between the router and its table; there is none to keep.
        assert router.middleware_stack == router.app, "the router has middleware of its own"
        index = cls(router)
        router.middleware_stack = index
        return index

    def candidates(self, path: str) -> APIRouter:
        """The router (a copy holding only the routes that may match `path`) to dispatch `path` with."""
        version = self.router._get_routes_version()
        if version != self._version or not self._subrouters:
            self._build()
            self._version = version
        segments = (path or "/").split("/")[1 : self._depth + 1]  # "" (the root path itself) redirects to "/"
        # The longest known prefix of the path: its sub-list holds every route whose prefix the path has.
        for length in range(len(segments), 0, -1):
            subrouter = self._subrouters.get(tuple(segments[:length]))
            if subrouter is not None:
                return subrouter
        return self._subrouters[()]

    def _build(self) -> None:
        routes = list(self.router.routes)
        prefixes = [_prefixes(route) for route in routes]
        keys = set().union(*prefixes) | {()}
        self._depth = max(len(key) for key in keys)
        self._subrouters = {}
        for key in keys:
            subrouter = copy.copy(self.router)  # the same router (settings, default, low-priority routes) …
            subrouter.routes = [  # … with the routes whose prefix `key` begins with, in the table's order
                route for route, own in zip(routes, prefixes, strict=True) if any(key[: len(p)] == p for p in own)
            ]
            self._subrouters[key] = subrouter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router.app(scope, receive, send)
            return
        scope.setdefault("router", self.router)  # url_for and friends see the app's router, not the copy
        await self.candidates(get_route_path(scope)).app(scope, receive, send)
