"""Jinja2 rendering shared by every page: the language, a translation helper, money formatting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from fenqi.collections.status import bucket_label, installment_label
from fenqi.identity.sessions import CSRF_FIELD, csrf_token, persist_csrf_anchor
from fenqi.kit.money import fmt_percent
from fenqi.kit.web import request_language

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


TEMPLATES.env.filters["pct"] = fmt_percent
TEMPLATES.env.globals["installment_label"] = installment_label
TEMPLATES.env.globals["bucket_label"] = bucket_label


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = request_language(request)

    def t(zh: str, en: str) -> str:
        return zh if lang == "zh" else en

    # Every POST form carries the CSRF token: `{{ csrf_input }}` inside the <form> (or `csrf_token`).
    token = csrf_token(request)
    csrf_input = Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)
    response = TEMPLATES.TemplateResponse(
        request, template, {"lang": lang, "t": t, "csrf_token": token, "csrf_input": csrf_input, **context},
        status_code=status_code,
    )
    persist_csrf_anchor(request, response)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie("lang", lang, samesite="lax")
    return response
