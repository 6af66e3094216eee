"""Operations console: a loan's reminders and notices — each message's kind, the day it speaks for,
the amount, where it is (scheduled, held and why, sent, delivered, failed) and when, in Shanghai time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from fenqi.collections.service import loan_messages
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.web import SessionDep, request_language
from fenqi.servicing.service import get_loan
from fenqi.web.render import render

router = APIRouter(prefix="/ops", include_in_schema=False)
_SHANGHAI = ZoneInfo("Asia/Shanghai")


def _when(at: datetime | None) -> str:
    return at.astimezone(_SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else ""


@router.get("/loans/{loan_id}/messages", response_class=HTMLResponse)
def loan_messages_page(request: Request, loan_id: EntityId,
                       who: Principal = Depends(require_roles("collector", "risk_officer", "finance")),
                       *, session: SessionDep) -> HTMLResponse:
    loan = get_loan(session, loan_id)
    lang = "zh" if request_language(request).startswith("zh") else "en"
    return render(request, "ops/loan_messages.html", {
        "loan": loan, "messages": loan_messages(session, loan_id, lang), "when": _when, "who": who,
    })
