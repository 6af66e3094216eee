"""The texts a shopper agrees to when signing in: the terms of service (用户服务协议) and the privacy policy
(隐私政策), as readable pages (public: anyone may read what they would agree to). The consents an application
asks for separately (credit inquiry, personal information, the e-contract) are origination's texts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fenqi.web.render import render

router = APIRouter(include_in_schema=False)
VERSION = "2026.1"  # the version both pages show; change it with their wording
EFFECTIVE = "2026-01-01"


@router.get("/legal/terms", response_class=HTMLResponse)
def terms_page(request: Request) -> HTMLResponse:
    return render(request, "legal/terms.html", {"version": VERSION, "effective": EFFECTIVE})


@router.get("/legal/privacy", response_class=HTMLResponse)
def privacy_page(request: Request) -> HTMLResponse:
    return render(request, "legal/privacy.html", {"version": VERSION, "effective": EFFECTIVE})
