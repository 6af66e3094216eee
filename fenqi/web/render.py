"""Jinja2 rendering shared by every page: the language, a translation helper, money formatting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from fenqi.kit.web import request_language

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def pct(rate: object) -> str:
    """"0.1200" → "12.00%"."""
    from decimal import Decimal

    return f"{Decimal(str(rate)) * 100:.2f}%"


TEMPLATES.env.filters["pct"] = pct


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = request_language(request)

    def t(zh: str, en: str) -> str:
        return zh if lang == "zh" else en

    response = TEMPLATES.TemplateResponse(
        request, template, {"lang": lang, "t": t, **context}, status_code=status_code
    )
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie("lang", lang, samesite="lax")
    return response
