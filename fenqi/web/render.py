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
from fenqi.kit.localtime import shown_time
from fenqi.kit.money import fmt_percent
from fenqi.kit.settings import get_settings
from fenqi.kit.web import request_language
from fenqi.web.labels import audit_detail, brand_name, label, phone_name, subject_label

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


TEMPLATES.env.filters["pct"] = fmt_percent


def local_time(value: Any) -> str:
    """A stored UTC time — a datetime or its ISO text — as Beijing wall-clock time, "2026-03-31 16:05"
    (pages never show UTC). A naive value is taken as UTC."""
    return shown_time(value)


TEMPLATES.env.filters["local_time"] = local_time


def yuan_text(value: Any) -> str:
    """A yuan amount given as text or Decimal ("200000.00") in the pages' form ("200,000.00")."""
    if value is None or value == "":
        return "—"
    from decimal import Decimal

    return f"{Decimal(str(value)):,.2f}"


TEMPLATES.env.filters["yuan_text"] = yuan_text
TEMPLATES.env.globals["installment_label"] = installment_label
TEMPLATES.env.globals["label"] = label
TEMPLATES.env.globals["subject_label"] = subject_label
TEMPLATES.env.globals["phone_name"] = phone_name
TEMPLATES.env.globals["brand_name"] = brand_name
TEMPLATES.env.globals["audit_detail"] = audit_detail
TEMPLATES.env.globals["bucket_label"] = bucket_label


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = request_language(request)

    def t(zh: str, en: str) -> str:
        return zh if lang == "zh" else en

    # Every POST form carries the CSRF token: `{{ csrf_input }}` inside the <form> (or `csrf_token`).
    token = csrf_token(request)
    csrf_input = Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)
    response = TEMPLATES.TemplateResponse(
        request, template, {"lang": lang, "t": t, "csrf_token": token, "csrf_input": csrf_input,
                            "service_phone": get_settings().service_phone, **context},
        status_code=status_code,
    )
    persist_csrf_anchor(request, response)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie("lang", lang, samesite="lax")
    return response
