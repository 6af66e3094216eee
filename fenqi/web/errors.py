"""Errors on pages: what a person in a browser sees when a page cannot be shown.

Every address outside the JSON APIs (/api/…), the channel emulators, static files and the OpenAPI
documents is a page: the shopper's site, the till, the merchant and operations consoles, sign-in. When
one fails — an unknown or retired phone, a bad date in the query string, an expired link, a form that
does not validate, a page that does not exist — the app's error handlers (fenqi.api) answer with an HTML
page in the page's language that says what is wrong and offers a way on, never with the JSON error
body. A caller that asks for JSON only (a page's own script polling a status) still gets JSON.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from fenqi.kit.web import request_language
from fenqi.web.render import render

# Addresses that are not pages: the JSON APIs, the channels' emulators, assets, the API's documents.
NOT_PAGES = ("/api/", "/_emulator/", "/static/", "/openapi.json", "/docs", "/redoc", "/healthz")

_NO_SUCH_PAGE = {"zh": "没有这个页面：地址可能有误，或链接已失效",
                 "en": "There is no such page: the address may be wrong or the link out of date"}
_WRONG_METHOD = {"zh": "这个页面不能这样打开，请从页面上的按钮或链接进入",
                 "en": "This page cannot be opened this way; use the buttons and links on the pages"}
_INTERNAL = {"zh": "系统繁忙，请稍后再试", "en": "Something went wrong on our side; please try again"}
_FORM = {"zh": "表单中有内容不符合要求，请返回检查后重新提交",
         "en": "Something in the form is not as required; go back, check it and send it again"}
_LINK = {"zh": "链接中的{what}无效，请检查地址，或从页面上的链接重新进入",
         "en": "The {what} in the link is not valid; check the address or follow a link on the pages again"}
_WHAT = {  # pydantic's error types → what a person calls the value
    "date": ("日期", "date"), "datetime": ("时间", "time"), "int": ("数字", "number"),
    "decimal": ("金额", "amount"), "float": ("数字", "number"), "bool": ("选项", "choice"),
    "enum": ("选项", "choice"), "literal": ("选项", "choice"), "string": ("内容", "text"),
}
_HTTP = {404: _NO_SUCH_PAGE, 405: _WRONG_METHOD}


def no_message() -> str:
    """The error text of a page that shows one after a failed form: never read from the address, where a
    crafted link could put any words into the page's alert. The form's handler passes it when it renders."""
    return ""


NoMessage = Depends(no_message)


def is_page_request(request: Request) -> bool:
    """A request for a page (HTML), not for the JSON API; a script that accepts only JSON gets JSON."""
    if request.url.path.startswith(NOT_PAGES):
        return False
    accept = request.headers.get("accept", "")
    return not ("application/json" in accept and "text/html" not in accept)


def section_home(path: str) -> str:
    """Where the way forward leads: the console or the shop the failed page belongs to."""
    for prefix in ("/ops", "/merchant", "/shop"):
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return "/"


def http_message(status: int, lang: str) -> str:
    return _HTTP.get(status, _NO_SUCH_PAGE if status == 404 else _INTERNAL)[lang]


def internal_message(lang: str) -> str:
    return _INTERNAL[lang]


def invalid_request_message(errors: Sequence[Any], lang: str) -> str:
    """A validation error said as a person would: a bad value in the link, or a form to check again."""
    locations = {str((e.get("loc") or ("",))[0]) for e in errors}
    if "body" in locations:
        return _FORM[lang]
    kinds = {str(e.get("type", "")).split("_")[0] for e in errors}
    named = [_WHAT[k] for k in sorted(kinds) if k in _WHAT]
    what = named[0] if len(named) == 1 else ("参数", "value")
    return _LINK[lang].format(what=what[0] if lang == "zh" else what[1])


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """The error page: what is wrong, in the page's language, a way home and, on the shopper's side, the
    shop's navigation. Sign-in is offered in the header to anyone not signed in."""
    path = request.url.path
    home = section_home(path)
    template = "error.html" if home in ("/ops", "/merchant") else "shopper/error.html"
    return render(request, template, {"message": message, "back": home, "status": status}, status_code=status)


# What the generic "not found" of the services names, in the page's words.
_RECORDS = {
    "loan": ("借款", "loan"), "application": ("申请", "application"), "product": ("分期产品", "product"),
    "hardship arrangement": ("困难协商方案", "hardship arrangement"), "merchant": ("商户", "merchant"),
    "store": ("门店", "store"), "order": ("支付单", "payment order"), "case": ("案件", "case"),
    "campaign": ("活动", "campaign"), "funder": ("资金方", "funder"),
}
_NOT_FOUND = {"zh": "没有找到您要的内容：链接可能有误或已失效",
              "en": "We could not find what you asked for: the link may be wrong or out of date"}
_GENERIC = {
    400: {"zh": "输入有误，请检查后重试", "en": "Something you entered is not valid; check it and try again"},
    409: {"zh": "当前状态不允许此操作，请刷新页面后重试",
          "en": "This cannot be done in the current state; reload the page"},
}
# A code in a message: a snake_case name or a lowercase Latin word (names like "JPG" or "iPhone" are fine).
CODE_IN_TEXT = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|(?<![A-Za-z.])[a-z]{2,}(?![A-Za-z])")
_WITH_CODES = re.compile(r"[（(][^（）()]*[）)]")


def page_message(code: str, status: int, message: str, detail: str, lang: str) -> str:
    """A service's error as a page says it: a Chinese page carries no English fragments (record names,
    field codes). The generic "not found" names the record in Chinese; a bracket that lists codes is left
    out; what still has codes becomes a plain sentence of the same meaning."""
    if lang != "zh" or not CODE_IN_TEXT.search(message):
        return message
    if code == "not_found":
        noun = detail.rpartition(" ")[0].lower()
        if noun == "sku":
            return "没有这款手机，或它已下架：请回到首页挑选在售的手机"
        if noun in _RECORDS:
            return f"没有找到这个{_RECORDS[noun][0]}：链接可能有误或已失效"
        return _NOT_FOUND["zh"]
    stripped = _WITH_CODES.sub(lambda m: "" if CODE_IN_TEXT.search(m.group()) else m.group(), message)
    stripped = stripped.rstrip("：: ")
    if not CODE_IN_TEXT.search(stripped):
        return stripped
    return _GENERIC.get(status, _GENERIC[400])["zh"]


def page_error_text(request: Request, exc: Any) -> str:
    """A domain error's message as a page shows it (see page_message)."""
    lang = request_language(request)
    return page_message(exc.code, exc.status, exc.message(lang), exc.detail, lang)
