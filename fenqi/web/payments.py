"""The cashier page of one payment order (public: the order number is unguessable; no personal data) and,
outside production, the demo page that opens an order from a form (fenqi.payments.payables)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import AmountText, IdText, parse_id
from fenqi.kit.errors import DomainError, NotFound
from fenqi.kit.web import SessionDep, request_language
from fenqi.payments import payables, service
from fenqi.payments.payables import PAYERS, positive_fen
from fenqi.payments.settings import get_payment_settings
from fenqi.web.render import render

router = APIRouter(include_in_schema=False)


@router.get("/payments/orders/{out_trade_no}", response_class=HTMLResponse, include_in_schema=False)
def order_page(out_trade_no: str, request: Request, session: SessionDep) -> HTMLResponse:
    """The shopper's cashier page: what to pay, where, and whether it arrived (no personal data;
    the order number is unguessable)."""
    order = service.find_order(session, out_trade_no)
    if order is None:
        raise NotFound(out_trade_no)
    return render(request, "payments/order.html", {"order": service.order_json(order)})


@router.get("/payments/demo", response_class=HTMLResponse, include_in_schema=False)
def demo_page(request: Request, who: Principal = Depends(require_roles(*PAYERS))) -> HTMLResponse:
    _demo_only()
    return render(request, "payments/demo.html", {"error": ""})


@router.post("/payments/demo", include_in_schema=False)
def demo_pay(request: Request, purpose: Annotated[str, Form()] = "", channel: Annotated[str, Form()] = "",
             amount: Annotated[AmountText, Form()] = "", loan_id: Annotated[IdText, Form()] = "",
             application_id: Annotated[IdText, Form()] = "",
             subject: Annotated[str, Form()] = "", *, session: SessionDep,
             who: Principal = Depends(require_roles(*PAYERS))) -> Response:
    """Demo only: open an order from a form and go to the channel's cashier. A plain (threadpool)
    endpoint: the channel may be the emulator on this very server, which must stay free to answer."""
    _demo_only()
    try:
        order = payables.open_order(
            session, who, purpose=purpose, channel=channel,
            amount_fen=positive_fen(amount, "amount") if amount.strip() else None, subject=subject or "分期付款演示",
            loan_id=parse_id(loan_id, field="loan_id") if loan_id.strip() else None,
            application_id=parse_id(application_id, field="application_id") if application_id.strip() else None,
        )
    except DomainError as exc:
        return render(request, "payments/demo.html", {"error": exc.message(request_language(request))}, 400)
    session.commit()
    return RedirectResponse(order.pay_url, status_code=303)


def _demo_only() -> None:
    if get_payment_settings().env == "production":
        raise NotFound.saying("页面", "page")
