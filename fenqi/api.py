"""The FastAPI app: every domain's router, one error handler for domain errors, OpenAPI at /docs."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fenqi import __version__, wiring
from fenqi.domains import domain_modules
from fenqi.identity.deps import current_principal
from fenqi.kit.bodylimit import BodyLimit
from fenqi.kit.bounds import BOUNDARY_ERRORS
from fenqi.kit.errors import DomainError
from fenqi.kit.fastlane import FastLane, Handler, error_response
from fenqi.kit.log import configure_logging, log
from fenqi.kit.responses import DESCRIPTIONS, ErrorBody
from fenqi.kit.routeindex import RouteIndex
from fenqi.kit.schemas import Health
from fenqi.kit.settings import Environment, get_settings
from fenqi.kit.web import request_language
from fenqi.origination.contract_pdf import warm_fonts
from fenqi.web.errors import (
    error_page,
    http_message,
    internal_message,
    invalid_request_message,
    is_page_request,
    page_message,
)
from fenqi.web.signin import login_required_page

_MALFORMED = {
    "zh": "请求格式有误，请检查字段和类型",
    "en": "The request is malformed; check the fields and their types",
}
_HTTP_MESSAGES = {
    404: {"zh": "没有这个地址", "en": "There is no such address"},
    405: {"zh": "此地址不接受这种请求方法（见 Allow）", "en": "This address does not accept that method (see Allow)"},
}
_IN_THE_LINK = {"zh": "链接中的值", "en": "a value in the link"}
_INTERNAL = {"zh": "系统繁忙，请稍后再试", "en": "Something went wrong on our side; please try again"}


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app answers on this path (for a 405's Allow header)."""
    from fastapi.routing import iter_route_contexts
    from starlette.routing import Match

    methods: set[str] = set()
    scope = {**request.scope, "method": "GET"}
    for route in iter_route_contexts(request.app.routes):
        matches = getattr(route, "matches", None)
        if matches is None:
            continue
        match, _ = matches({**scope, "method": next(iter(getattr(route, "methods", None) or {"GET"}))})
        if match is Match.FULL:
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def refusal_page(request: Request, error: DomainError) -> Response | None:
    """A request refused before the routes (fenqi.kit.bodylimit) as a page, if it asked for one."""
    if not is_page_request(request):
        return None
    lang = request_language(request)
    return error_page(request, error.status, page_message(error.code, error.status, error.message(lang),
                                                          error.detail, lang))


def install_error_handlers(app: FastAPI) -> None:
    """Errors of the JSON API are the error body; errors of pages are pages (fenqi.web.errors): in the
    page's language, with a way on, never JSON. A 401/403 on a page is the sign-in form."""
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        lang = request_language(request)
        if is_page_request(request):
            signed_in = getattr(request.state, "principal", None) is not None
            if exc.status == 401 or (exc.status == 403 and not signed_in):
                # A person in a browser gets the sign-in form (same status) instead of JSON; one signed in
                # but not allowed gets the error page, which offers to sign in as someone else.
                return login_required_page(request, exc.status, exc.message(lang))
            message = page_message(exc.code, exc.status, exc.message(lang), exc.detail, lang)
            return error_page(request, exc.status, message)
        return error_response(exc, lang)  # as the fast lane answers (fenqi.kit.fastlane)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        fields = [".".join(str(p) for p in e.get("loc", ())) for e in errors]
        lang = request_language(request)
        page = is_page_request(request)
        bounded = [e for e in errors if e.get("type") in BOUNDARY_ERRORS]
        if bounded and len(bounded) == len(errors):
            # An amount or id out of bounds (fenqi.kit.bounds): answered as the domain error it is.
            first = bounded[0]
            field = str(first.get("loc", ("",))[-1])
            error = BOUNDARY_ERRORS[first["type"]](field)
            if page:  # no field codes on a page: "the link" is what a person sees
                error = BOUNDARY_ERRORS[first["type"]](_IN_THE_LINK[lang])
                return error_page(request, error.status, error.message(lang))
            return _error(error.status, error.code, error.message(lang), fields=fields)
        if page:
            return error_page(request, 422, invalid_request_message(errors, lang))
        return _error(422, "malformed_request", f"{_MALFORMED[lang]}: {', '.join(fields)}", fields=fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route that matched the path; the path may have several.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        lang = request_language(request)
        response: Response
        if is_page_request(request):
            response = error_page(request, exc.status_code, http_message(exc.status_code, lang))
        else:
            message = _HTTP_MESSAGES.get(exc.status_code, {}).get(lang, str(exc.detail))
            response = _error(exc.status_code, code.get(exc.status_code, "http_error"), message)
        response.headers.update(headers)
        return response

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("http.unhandled", path=request.url.path)
        lang = request_language(request)
        if is_page_request(request):
            return error_page(request, 500, internal_message(lang))
        return _error(500, "internal_error", _INTERNAL[lang])


def create_app(*, fast_lane: bool = True, route_index: bool = True) -> FastAPI:
    """The app; `fast_lane=False` leaves out the fast lane (every request through the routes) and
    `route_index=False` the route index (every route tried in order): for tests that compare the two."""
    configure_logging()
    wiring.install()
    app = FastAPI(
        title="Fenqi 分期",
        version=__version__,
        description="Phone sales on installments: plans with APR, applications, servicing, payments.",
    )
    install_error_handlers(app)
    if route_index:
        # A request is matched against the routes its path can match, not the whole table in order.
        RouteIndex.install(app.router)
    # Request bodies are capped (1 MiB) before anything reads them: API calls, callbacks and forms alike.
    app.add_middleware(BodyLimit, page=refusal_page)
    modules = domain_modules("api")
    if fast_lane:
        # Outside the rest: the machine-to-machine endpoints' lanes (`fast_lane` of a domain's api).
        app.add_middleware(FastLane, lanes=fast_lanes(modules), owner=app)
    # Routes are matched in order: a domain's busiest routes (`hot_router`) come before every other route.
    for module in modules:
        if hasattr(module, "hot_router"):
            app.include_router(module.hot_router)
    for module in modules:
        app.include_router(module.router)

    @app.get("/healthz", tags=["meta"], summary="Liveness", response_model=Health)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    _document_errors(app)
    _warm_pdf_fonts()
    return app


def fast_lanes(modules: list[Any]) -> dict[tuple[str, str], Handler]:
    """Every domain's lanes: (method, path) → handler, each path also declared as a route (OpenAPI)."""
    lanes: dict[tuple[str, str], Handler] = {}
    for module in modules:
        lanes.update(getattr(module, "fast_lane", {}))
    return lanes


def _warm_pdf_fonts() -> None:
    """The e-contract's CJK fonts are parsed once per process (~0.5 s of CPU): beside start-up, in the
    background, rather than in the first request that draws up a contract. Not in tests (many apps)."""
    import threading

    if get_settings().env != Environment.TEST:
        threading.Thread(target=warm_fonts, name="pdf-fonts", daemon=True).start()


def _document_errors(app: FastAPI) -> None:
    """Every operation in the OpenAPI (and /docs) lists the error answers that follow from its shape, with
    the error body: 400/405/413/422 for any request, 401/403 behind sign-in, 404 when it names a record
    (path, query or body), 409 when it names a record or changes anything.
    Answers particular to an endpoint are declared on it (`responses=`, fenqi.kit.responses.errors)."""
    from fastapi.dependencies.models import Dependant
    from fastapi.routing import iter_route_contexts

    generate = app.openapi

    def signed_in(dependant: Dependant) -> bool:
        return any(sub.call is current_principal or signed_in(sub) for sub in dependant.dependencies)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorBody", ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}"))
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for route in iter_route_contexts(app.routes):
            dependant = getattr(route, "dependant", None)
            path = schema["paths"].get(getattr(route, "path_format", None) or "")
            if dependant is None or path is None or not getattr(route, "include_in_schema", False):
                continue
            statuses = [400, 405, 413, 422]
            if signed_in(dependant):
                statuses += [401, 403]
            if dependant.path_params or dependant.query_params or dependant.body_params:
                # The path, a query or the body names a record: it may not exist, or its state not allow this.
                statuses += [404, 409]
            for method in route.methods or ():
                operation = path.get(method.lower())
                if operation is None:
                    continue
                if method in ("POST", "PUT", "PATCH", "DELETE") and 409 not in statuses:
                    statuses = [*statuses, 409]  # a change the record's state may not allow
                responses = operation["responses"]
                if "HTTPValidationError" in str(responses.get("422", "")):
                    del responses["422"]  # FastAPI's default shape; ours is the error body
                for status in statuses:
                    responses.setdefault(str(status), {"description": DESCRIPTIONS[status], "content": body})
        for unused in ("HTTPValidationError", "ValidationError"):
            if unused not in str(schema["paths"]):
                components.pop(unused, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
