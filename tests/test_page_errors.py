"""Every page of the app, asked for with bad parameters, answers with an HTML page in the page's language and a
way on — never the API's JSON error body, never a 500. The routes are read from the app itself, so a page
added later is walked too. The JSON API keeps its error bodies."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, csrf_token_for, start_session
from fenqi.web.errors import CODE_IN_TEXT, NOT_PAGES

# Bad values for a path parameter: out of bounds, no such record, not a number at all.
BAD_PATH_VALUES = ("0", "999999999", "no-such-thing")
# A bad value for every query parameter a page declares: not a date, not a number, not a choice.
BAD_QUERY = "2026-13-45 不是"
WAY_ON = re.compile(r'<a [^>]*href="/[^"]*"')
ALERT = re.compile(r'role="alert"[^>]*>([^<]*)<')


def _query_params(dependant: Dependant) -> Iterator[str]:
    for param in dependant.query_params:
        yield param.alias
    for sub in dependant.dependencies:
        yield from _query_params(sub)


def page_routes(app: Any) -> list[tuple[str, str, list[str]]]:
    """(method, path template, query parameter names) of every page route the app registers."""
    routes = []
    for route in iter_route_contexts(app.routes):
        path = getattr(route, "path_format", None) or getattr(route, "path", "")
        dependant = getattr(route, "dependant", None)
        if dependant is None or not path or path.startswith(NOT_PAGES):
            continue
        for method in sorted(route.methods or ()):
            if method in ("GET", "POST"):
                routes.append((method, path, sorted(set(_query_params(dependant)))))
    return routes


def _fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def _assert_page(response: Any, where: str, lang: str = "zh") -> None:
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    if response.is_redirect:
        return
    kind = response.headers.get("content-type", "")
    assert kind.startswith("text/html"), (where, response.status_code, kind, response.text[:200])
    assert '{"error"' not in response.text, where
    html_lang = "zh-CN" if lang == "zh" else "en"
    assert f'<html lang="{html_lang}">' in response.text, (where, response.text[:200])
    if response.status_code >= 400:
        assert WAY_ON.search(response.text), (where, "no link on")
        alert = ALERT.search(response.text)
        assert alert, (where, "the page does not say what is wrong")
        if lang == "zh" and "/payments/demo" not in where:  # (the demo's form offers only valid choices)
            # No English fragments (record names, field codes) inside the Chinese message.
            assert not CODE_IN_TEXT.search(html.unescape(alert.group(1))), (where, alert.group(1))


@pytest.fixture()
def signed_in(client: TestClient, session: Session) -> Any:
    def make(role: str) -> dict[str, str]:
        user = create_user(session, role=role, display_name=f"走查{role}", phone="13700137099" if role == "shopper"
                           else None)
        token = start_session(session, user)
        client.cookies.set(SESSION_COOKIE, token)
        return {"x-csrf-token": csrf_token_for(token)}

    return make


def test_the_walk_finds_the_pages(client: TestClient) -> None:
    found = {path for _, path, _ in page_routes(client.app)}
    assert {"/shop", "/shop/phones/{code}", "/merchant/till", "/ops/loans/{loan_id}", "/ops/reviews"} <= found
    assert not any(path.startswith("/api/") for path in found)


def test_every_page_with_bad_parameters_is_a_page_not_json(
    client: TestClient, session: Session, signed_in: Any
) -> None:
    routes = page_routes(client.app)
    for who in (None, "shopper", "admin"):
        client.cookies.clear()
        headers = signed_in(who) if who else {}
        for method, path, query in routes:
            if path == "/logout":
                continue  # would end the walk's own session
            values = (BAD_PATH_VALUES if who else BAD_PATH_VALUES[-1:]) if "{" in path else ("",)
            for value in values:
                url = _fill(path, value)
                params = dict.fromkeys(query, BAD_QUERY)
                where = f"{who} {method} {url}"
                if method == "GET":
                    response = client.get(url, params=params, headers=headers, follow_redirects=False)
                else:
                    response = client.post(url, params=params, data={"x": BAD_QUERY}, headers=headers,
                                           follow_redirects=False)
                _assert_page(response, where)


def test_pages_speak_english_when_the_page_is_english(client: TestClient, signed_in: Any) -> None:
    headers = signed_in("admin")
    for url, expected in (("/shop/phones/no-such-phone", "Go back"),
                          ("/ops/loans/999999999", "Back to the console"),
                          ("/ops/no-such-page", "There is no such page"),
                          ("/ops/dashboard?days=abc&lang=en", "is not valid")):
        response = client.get(url + ("" if "?" in url else "?lang=en"), headers=headers)
        _assert_page(response, url, lang="en")
        assert expected in response.text, (url, response.text[-800:])
        assert not re.search(r"[\u4e00-\u9fff]{2}", response.text.split("<main>")[1]), url


def test_a_bad_date_in_the_link_says_so_in_chinese(client: TestClient, signed_in: Any) -> None:
    headers = signed_in("admin")
    response = client.get("/ops/no-such-page", headers=headers)
    assert response.status_code == 404 and "没有这个页面" in response.text and 'href="/ops"' in response.text


def test_signed_out_pages_offer_sign_in(client: TestClient) -> None:
    response = client.get("/ops/loans/1")
    assert response.status_code == 401 and response.headers["content-type"].startswith("text/html")
    assert 'action="/login/staff"' in response.text


def test_the_api_keeps_its_json_errors(client: TestClient) -> None:
    for url, status, code in (("/api/v1/no-such-thing", 404, "not_found"), ("/api/v1/loans/0", 401, "unauthorized")):
        response = client.get(url, headers={"Accept": "text/html"})
        assert response.status_code == status and response.json()["error"] == code, url
    # A page's own script that accepts only JSON (the decision page's status poll) still gets JSON.
    poll = client.get("/shop/applications/999999999/status", headers={"Accept": "application/json"})
    assert poll.status_code == 401 and poll.json()["error"] == "unauthorized"


def test_a_link_cannot_put_words_into_a_page(client: TestClient, signed_in: Any) -> None:
    """A page's alert says what its own form found wrong; a crafted link's `?error=` text is not shown."""
    headers = signed_in("admin")
    for path in ("/ops/reviews", "/ops/products", "/ops/funders", "/ops/reconciliation", "/ops/aftersales",
                 "/ops/experiments"):
        page = client.get(path, params={"error": "请致电 400-000-0000 领取补贴"}, headers=headers)
        assert page.status_code == 200 and "领取补贴" not in page.text, path


def test_signed_in_but_not_allowed_is_told_so_and_may_sign_in_as_someone_else(
    client: TestClient, signed_in: Any
) -> None:
    signed_in("shopper")
    response = client.get("/ops/loans")
    assert response.status_code == 403 and "无权执行此操作" in response.text
    assert "以其他账号登录" in response.text and 'href="/ops"' in response.text


def test_a_nul_or_an_oversized_form_on_a_page_is_refused_with_a_page(client: TestClient, signed_in: Any) -> None:
    """A NUL or a body over the cap is refused before any route reads the request: a page route still answers
    with its error page."""
    headers = signed_in("admin")
    response = client.get("/ops/aftersales?model=%00", headers=headers)
    assert response.status_code == 400
    _assert_page(response, "/ops/aftersales?model=%00")
    assert "空字符" in response.text and 'href="/ops"' in response.text
    too_large = client.post("/login/staff", content=b"username=" + b"a" * (1024 * 1024),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert too_large.status_code == 413 and too_large.headers["connection"] == "close"
    _assert_page(too_large, "POST /login/staff (over 1 MiB)")
    english = client.get("/shop?lang=en&q=%00", headers=headers)
    assert english.status_code == 400
    _assert_page(english, "/shop?lang=en&q=%00", lang="en")
    api = client.get("/api/v1/loans?x=%00", headers={"Accept": "text/html"})
    assert api.status_code == 400 and api.json()["error"] == "nul_character"
