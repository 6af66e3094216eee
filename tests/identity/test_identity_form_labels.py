"""Every form field on every page has a label (accessibility, and the browser tests find fields by label).

Walks the app's GET pages (no path parameters) as a shopper, a clerk and an admin, and checks each visible
input, select and textarea: a <label for=id>, an enclosing <label>, or an aria-label.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from fenqi.api import create_app

Headers = Callable[..., dict[str, str]]
_HIDDEN = {"hidden", "submit", "button", "reset", "image"}


class FieldLabels(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.label_for: set[str] = set()
        self.fields: list[tuple[str, dict[str, str]]] = []
        self.label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea") and a.get("type", "text") not in _HIDDEN:
            self.fields.append((tag, {**a, "_wrapped": "1" if self.label_depth else ""}))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth = max(0, self.label_depth - 1)

    def unlabelled(self) -> list[str]:
        return [
            f"<{tag} name={a.get('name')!r} id={a.get('id')!r}>"
            for tag, a in self.fields
            if not (a["_wrapped"] or a.get("aria-label") or a.get("aria-labelledby") or a.get("id") in self.label_for)
        ]


def unlabelled_fields(html: str) -> list[str]:
    parser = FieldLabels()
    parser.feed(html)
    return parser.unlabelled()


def test_the_checker_catches_a_bare_input() -> None:
    assert unlabelled_fields('<form><input name="x"></form>') == ["<input name='x' id=None>"]
    assert unlabelled_fields('<label for="x">X</label><input id="x"><label>Y <input name="y"></label>') == []


def test_every_page_field_has_a_label(client: TestClient, auth_headers: Headers) -> None:
    paths = sorted({
        r.path for r in iter_route_contexts(create_app().routes)
        if r.path and "{" not in r.path and "GET" in (r.methods or ()) and not r.path.startswith(("/docs", "/redoc"))
    })
    who = {"anonymous": {}, "shopper": auth_headers("shopper"), "clerk": auth_headers("clerk", 1),
           "admin": auth_headers("admin")}
    problems, pages = [], 0
    for path in paths:
        for name, headers in who.items():
            r = client.get(path, headers={**headers, "accept": "text/html"})
            if r.status_code != 200 or not r.headers.get("content-type", "").startswith("text/html"):
                continue
            pages += 1
            problems += [f"{path} as {name}: {field}" for field in unlabelled_fields(r.text)]
    assert pages >= 3
    assert not problems, "form fields without a label:\n" + "\n".join(problems)
