"""Finance's page of a return's refunds waiting for a person (需人工处理): settle one paid back by bank
transfer, send it to the channel again, or cancel it with a reason (fenqi.aftersales.manual_refunds)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fenqi.aftersales import manual_refunds
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.errors import DomainError, InvalidInput
from fenqi.kit.localtime import shown_time
from fenqi.kit.money import fmt_fen
from fenqi.kit.web import SessionDep, request_language
from fenqi.web.errors import NoMessage, page_error_text
from fenqi.web.render import render
from fenqi.web.shopper.common import CHANNELS, attempt

router = APIRouter()
finance = require_roles("finance")
PURPOSES = {"down_payment": ("首付", "Down payment"), "installment": ("月供", "Installment"),
            "payoff": ("提前结清", "Payoff")}


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


Fields = Depends(_fields)


def _why(last_error: str, zh: bool) -> str:
    """The stored reason ("需人工处理：渠道拒绝退款（CODE） / needs handling by hand: refused (CODE)") in the
    page's language, without the channel's English code on a Chinese page."""
    zh_part, _, en_part = last_error.partition(" / ")
    return zh_part.split("（")[0] if zh else (en_part or zh_part)


@router.get("/ops/refunds", response_class=HTMLResponse)
def manual_queue(request: Request, error: str = NoMessage, *, session: SessionDep,
                 who: Principal = Depends(finance)) -> HTMLResponse:
    zh = request_language(request) == "zh"
    rows: list[dict[str, Any]] = [
        {"id": item.id, "case_id": case.id, "loan_id": case.loan_id, "channel": item.channel,
         "purpose": item.purpose, "amount": fmt_fen(item.amount_fen), "attempt": item.attempt,
         "why": _why(item.last_error, zh), "since": shown_time(item.updated_at)}
        for item, case in manual_refunds.waiting(session)]
    return render(request, "ops/refunds.html", {"who": who, "rows": rows, "error": error, "channels": CHANNELS,
                                                "purposes": PURPOSES})


@router.post("/ops/refunds/{refund_id}")
def handle(refund_id: EntityId, request: Request, form: dict[str, str] = Fields, *, session: SessionDep,
           who: Principal = Depends(finance)) -> Response:
    action = form.get("action", "")
    try:
        with attempt(session):
            if action == "settle":
                manual_refunds.settle(session, refund_id, reference=form.get("reference", ""),
                                      actor_user_id=who.user_id)
            elif action == "retry":
                manual_refunds.retry(session, refund_id, actor_user_id=who.user_id)
            elif action == "cancel":
                manual_refunds.cancel(session, refund_id, reason=form.get("reason", ""), actor_user_id=who.user_id)
            else:
                raise InvalidInput(f"action {action[:20]!r}", zh="请选择一种处理方式", en="Choose what to do")
    except DomainError as exc:
        return manual_queue(request, page_error_text(request, exc), session=session, who=who)
    return RedirectResponse("/ops/refunds", status_code=303)
