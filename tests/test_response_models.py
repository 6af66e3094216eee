"""Every JSON endpoint documents its response: /docs shows each field, and a schemathesis run can
check what an endpoint sends against it."""

from __future__ import annotations

from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.responses import Response

from fenqi.api import create_app


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _json_responses(spec: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status, response in op.get("responses", {}).items():
                content = response.get("content", {})
                if status.startswith("2") and "application/json" in content:
                    found.append((method.upper(), path, status, content["application/json"].get("schema", {})))
    return found


# Every domain declares its response models now (nothing pending).
PENDING: tuple[str, ...] = ()


def test_every_json_response_declares_its_fields() -> None:
    spec = create_app().openapi()
    responses = _json_responses(spec)
    assert len(responses) > 60  # the whole API, not an empty spec
    bare = []
    for method, path, status, schema in responses:
        resolved = _resolve(spec, schema)
        if path.startswith(PENDING):
            continue
        if not resolved.get("properties") and "items" not in resolved:
            bare.append(f"{method} {path} {status}")
    assert bare == []


def test_response_models_forbid_undocumented_fields() -> None:
    """A key an endpoint sends but its model does not declare fails instead of vanishing from /docs."""
    spec = create_app().openapi()
    loose = []
    for method, path, status, schema in _json_responses(spec):
        resolved = _resolve(spec, schema)
        if resolved.get("properties") and resolved.get("additionalProperties") is not False and not path.startswith(
            PENDING
        ):
            loose.append(f"{method} {path} {status}")
    assert loose == []


def _routes(routes: list[Any]) -> list[Any]:
    """Every route of the app, the included routers' too (FastAPI keeps an included router as one entry)."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found.extend(_routes(list(inner.routes)) if inner is not None else [route])
    return found


def _is_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    args = get_args(annotation)
    return get_origin(annotation) in (list, Union, UnionType) and bool(args) and all(
        a is type(None) or _is_model(a) for a in args)


def test_every_json_route_has_a_response_model() -> None:
    """Also the routes left out of /docs (the consoles' and pages' JSON, polled by their own pages): each
    answers with a Pydantic model, never a bare dict whose keys nobody declared."""
    non_json = (HTMLResponse, PlainTextResponse, RedirectResponse, StreamingResponse, FileResponse)
    bare = []
    routes = [r for r in _routes(list(create_app().routes)) if isinstance(r, APIRoute)]
    assert len(routes) > 200  # the included routers were walked
    for route in routes:
        cls = getattr(route.response_class, "value", route.response_class)
        if isinstance(cls, type) and issubclass(cls, non_json):
            continue
        if route.response_model is None:
            # Fine only for an endpoint that answers with a Response of its own (a file, a redirect) or
            # with nothing at all (204).
            returns = get_type_hints(route.endpoint).get("return")
            if returns is not type(None) and not (isinstance(returns, type) and issubclass(returns, Response)):
                bare.append(f"{sorted(route.methods)} {route.path}: returns {returns} without a model")
            continue
        if not _is_model(route.response_model):
            bare.append(f"{sorted(route.methods)} {route.path}: {route.response_model}")
    assert bare == []
