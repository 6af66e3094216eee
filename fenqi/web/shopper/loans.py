""""My loans": each loan's bills and next due date, pay now (an installment order at the channel's cashier),
the early payoff quote and its payment, and the payment history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.aftersales import feedback
from fenqi.catalog.service import get_sku
from fenqi.collections.status import days_overdue
from fenqi.identity.deps import Principal
from fenqi.kit.bounds import EntityId
from fenqi.kit.errors import DomainError, InvalidInput
from fenqi.kit.web import SessionDep, commit_early, request_language
from fenqi.payments import service as payments
from fenqi.payments.polling import refresh_latest_of_loan
from fenqi.servicing.hardship import in_force, left_to_pay_fen
from fenqi.servicing.service import (
    get_loan,
    installments,
    is_open,
    next_bill,
    payoff_quote,
    repayments,
    scheduled,
    unpaid,
)
from fenqi.web.labels import label
from fenqi.web.render import render
from fenqi.web.shopper import cashier, huabei_sale
from fenqi.web.shopper.common import (
    CHANNELS,
    Posted,
    Shopper,
    attempt,
    error_page,
    own_loan,
    signed_applications,
    site_url,
    yuan,
)

if TYPE_CHECKING:  # applications and loans come from origination's and servicing's services; no table is read here
    from fenqi.origination.models import Application
    from fenqi.servicing.models import Loan

router = APIRouter()


def _phone(session: Session, app: Application, lang: str) -> str:
    sku = get_sku(session, app.sku_code)
    return sku.name_zh if lang == "zh" else sku.name_en


@router.get("/shop/loans", response_class=HTMLResponse)
def my_loans(request: Request, session: SessionDep, who: Principal = Shopper) -> HTMLResponse:
    lang = request_language(request)
    items = []
    for app in signed_applications(session, who):
        loan, _ = own_loan(session, app.loan_id or 0, who)
        bill = next_bill(loan, installments(session, loan.id))
        items.append({"loan": loan, "phone": _phone(session, app, lang), "bill": bill,
                      "to_pay": yuan(bill.to_pay_fen), "outstanding": yuan(loan.principal_outstanding_fen),
                      "financed": yuan(loan.financed_fen)})
    huabei = huabei_sale.purchases(session, who, lang)
    return render(request, "shopper/loans.html", {"items": items, "huabei": huabei})


def _loan_context(session: Session, loan: Loan, app: Application, lang: str) -> dict[str, Any]:
    rows = installments(session, loan.id)
    bill = next_bill(loan, rows)
    routing = cashier.routed(session, app.shopper_user_id, app.id)
    quote = None
    if is_open(loan):
        q = payoff_quote(session, loan.id)
        quote = {"total": yuan(q.total), "principal": yuan(q.principal), "interest": yuan(q.interest),
                 "fee": yuan(q.fee), "penalty": yuan(q.penalty), "prepayment_fee": yuan(q.prepayment_fee),
                 "credit": yuan(q.credit), "date": q.on.isoformat(), "scheduled": yuan(q.scheduled),
                 "saved_fen": q.saved, "saved": yuan(abs(q.saved)), "interest_saved": yuan(q.interest_saved),
                 "fees_saved": yuan(abs(q.fees_saved)), "fees_saved_fen": q.fees_saved}
    return {
        "loan": loan, "app_id": app.id, "phone": _phone(session, app, lang), "imei": app.device_imei or "",
        "bill": bill,
        "to_pay": yuan(bill.to_pay_fen), "overdue": yuan(bill.overdue_fen), "quote": quote,
        "credit": yuan(loan.credit_balance_fen), "outstanding": yuan(loan.principal_outstanding_fen),
        "financed": yuan(loan.financed_fen), "channels": CHANNELS,
        "pay_channels": cashier.offered(routing), "routing": cashier.note(routing),
        "rows": [{"period": r.period, "due_date": r.due_date.isoformat(), "status": r.status, "due_date_d": r.due_date,
                  "overdue_days": days_overdue(r.status, r.due_date, loan.cob_date),
                  "total": yuan(scheduled(r)), "unpaid": yuan(unpaid(r)),
                  "paid_on": r.paid_on.isoformat() if r.paid_on else "",
                  "holiday": scheduled(r) == 0} for r in rows],
        "history": _history(session, loan.id),
        "hardship": _hardship(session, loan, lang),
    }


def _hardship(session: Session, loan: Loan, lang: str) -> dict[str, Any] | None:
    """The hardship arrangement in force on the loan, as the shopper sees it."""
    a = in_force(session, loan.id)
    if a is None:
        return None
    return {"kind": a.kind, "name": label("hardship", a.kind, lang), "apr": a.apr, "status": a.status,
            "decided_on": a.decided_on.isoformat() if a.decided_on else "",
            "to_pay": yuan(left_to_pay_fen(a)), "agreed": yuan(a.settlement_fen),
            "valid_until": a.valid_until.isoformat() if a.valid_until else "",
            "discount": yuan(a.discount_fen)}


def _history(session: Session, loan_id: int) -> list[dict[str, Any]]:
    """Every payment order of the loan (down payment included), newest first, with how servicing split
    each repayment between principal and charges."""
    split = {r.payment_ref: r for r in repayments(session, loan_id)}
    rows = []
    for order in payments.loan_orders(session, loan_id):
        rep = split.get(order.out_trade_no)
        rows.append({
            "no": order.out_trade_no, "date": (order.paid_at or order.created_at).date().isoformat(),
            "purpose": order.purpose, "channel": order.channel, "status": order.status,
            "amount": yuan(order.amount_fen), "principal": yuan(rep.principal_fen) if rep else "",
            "charges": yuan(rep.interest_fen + rep.fee_fen + rep.penalty_fen + rep.prepayment_fee_fen) if rep else "",
            "credit": yuan(rep.credit_fen) if rep and rep.credit_fen > 0 else "",
            "hb_fq_num": order.hb_fq_num,
        })
    return rows


@router.get("/shop/loans/{loan_id}", response_class=HTMLResponse)
def loan_page(
    loan_id: EntityId, request: Request, back: str = "", *, session: SessionDep,
    who: Principal = Shopper,
) -> HTMLResponse:
    loan, app = own_loan(session, loan_id, who)
    lang = request_language(request)
    latest = None
    if back:
        # Back from the cashier: the newest order of this loan, asked of the channel if not yet heard of.
        latest = refresh_latest_of_loan(session, loan.id)
        loan = get_loan(session, loan.id)
    context = _loan_context(session, loan, app, lang)
    rating = feedback.rating_of(session, who, about="purchase", subject_id=loan.id)
    return render(request, "shopper/loan.html", {**context, "order": latest, "rating": rating,
                                                 "order_amount": yuan(latest.amount_fen) if latest else ""})


def _pay(request: Request, form: dict[str, str], session: Session, who: Principal, loan_id: int,
         purpose: str) -> Response:
    loan, app = own_loan(session, loan_id, who)
    channel = str(form.get("channel", "alipay"))
    lang = request_language(request)
    back = f"/shop/loans/{loan.id}"
    phone = get_sku(session, app.sku_code).name_zh
    refused = cashier.refusal(session, app.shopper_user_id, app.id, channel, lang)
    if refused:  # failover: the page offers the channels still open
        return error_page(request, refused, back, 409)
    try:
        with attempt(session):
            if purpose == "payoff":
                amount, subject = payoff_quote(session, loan.id).total, f"提前结清 {phone}"
            else:
                bill = next_bill(loan, installments(session, loan.id))
                amount = bill.to_pay_fen
                subject = f"月供 {phone}" + (f" 第{bill.period}期" if bill.period else "")
            if amount <= 0:
                nothing = "目前没有需要支付的金额" if lang == "zh" else "There is nothing to pay at the moment"
                return error_page(request, nothing, back)
            order = payments.create_order(session, purpose=purpose, amount_fen=amount, channel=channel,
                                          subject=subject, loan_id=loan.id, application_id=app.id,
                                          return_url=site_url(request, f"{back}?back=1"))
    except DomainError as exc:
        return error_page(request, exc, back, exc.status)
    commit_early(session)
    return RedirectResponse(order.pay_url, status_code=303)


@router.post("/shop/loans/{loan_id}/pay")
def pay_now(
    loan_id: EntityId, request: Request, form: dict[str, str] = Posted, *, session: SessionDep,
    who: Principal = Shopper,
) -> Response:
    return _pay(request, form, session, who, loan_id, "installment")


@router.post("/shop/loans/{loan_id}/payoff")
def pay_off(
    loan_id: EntityId, request: Request, form: dict[str, str] = Posted, *, session: SessionDep,
    who: Principal = Shopper,
) -> Response:
    return _pay(request, form, session, who, loan_id, "payoff")


@router.post("/shop/loans/{loan_id}/rate")
def rate_purchase(
    loan_id: EntityId, request: Request, form: dict[str, str] = Posted, *, session: SessionDep,
    who: Principal = Shopper,
) -> Response:
    """为这次购买评分: the NPS question (0–10) and an optional comment, once per purchase."""
    own_loan(session, loan_id, who)
    back = f"/shop/loans/{loan_id}"
    raw = str(form.get("score", "")).strip()
    try:
        with attempt(session):
            if not raw.isdecimal() or len(raw) > 2:
                raise InvalidInput("score", zh="请选择 0 到 10 分的评分", en="Choose a score from 0 to 10")
            feedback.rate(session, who, about="purchase", subject_id=loan_id, score=int(raw),
                          comment=str(form.get("comment", "")).strip())
    except DomainError as exc:
        return error_page(request, exc, back, exc.status)
    return RedirectResponse(back + "#rate-purchase", status_code=303)
