"""The shopper's after-sales pages: 申请售后 from a loan (return, exchange or repair; reason; photos), the
case's progress with the refund items and where each went, feedback, and complaints."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fenqi.aftersales import feedback as fb
from fenqi.aftersales import reprice
from fenqi.aftersales import service as aftersales
from fenqi.aftersales.exchanges import difference_order_json
from fenqi.aftersales.photos import MAX_PHOTOS, check_photo, store_photos
from fenqi.aftersales.policies import policy_of_case
from fenqi.aftersales.repairs import NAMES, ticket_for_case, ticket_json
from fenqi.identity.deps import Principal
from fenqi.kit.bounds import EntityId, parse_id
from fenqi.kit.clock import business_date
from fenqi.kit.errors import DomainError, InvalidInput
from fenqi.kit.web import SessionDep, request_language
from fenqi.web.render import render
from fenqi.web.shopper.common import CHANNELS, Shopper, attempt, error_page, own_loan

router = APIRouter()
STATUS = {"requested": ("已提交，待门店验机", "Submitted, waiting for the store's inspection"),
          "inspected": ("已验机，待处理", "Inspected, to be decided"), "processing": ("处理中", "In progress"),
          "completed": ("已完成", "Completed"), "refused": ("未受理", "Refused"), "cancelled": ("已撤销", "Withdrawn")}
REFUND_STATUS = {"pending": ("待退款", "To refund"), "processing": ("退款处理中", "Refund in progress"),
                 "succeeded": ("退款成功", "Refunded"), "failed": ("退款失败，自动重试中", "Failed, retrying"),
                 "manual": ("需人工处理", "Needs manual handling"),
                 "settled": ("已通过银行转账退回", "Paid back by bank transfer"),
                 "cancelled": ("退款已取消", "Refund cancelled")}
KINDS = {"return": ("退货", "Return"), "exchange": ("换货", "Exchange"), "repair": ("维修", "Repair")}


async def _form(request: Request) -> dict[str, Any]:
    """Fields and uploaded photos of a multipart form (read on the event loop)."""
    form = await request.form()
    fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    photos = []
    for item in form.getlist("photos"):
        if not isinstance(item, str):
            data = await item.read(5 * 1024 * 1024 + 1)
            if data:
                photos.append(data)
    fields["_photos"] = photos
    return fields


@router.get("/shop/loans/{loan_id}/aftersales", response_class=HTMLResponse)
def request_form(loan_id: EntityId, request: Request, session: SessionDep,
                 who: Principal = Shopper) -> HTMLResponse:
    loan, _ = own_loan(session, loan_id, who)
    return render(request, "shopper/aftersales/request.html", {
        "loan": loan, "kinds": KINDS, "form_key": secrets.token_hex(16),
        "day": (business_date(session) - loan.start_date).days})


@router.post("/shop/loans/{loan_id}/aftersales")
def request_submit(loan_id: EntityId, request: Request, form: dict[str, Any] = Depends(_form),
                   *, session: SessionDep, who: Principal = Shopper) -> Response:
    own_loan(session, loan_id, who)
    back = f"/shop/loans/{loan_id}/aftersales"
    try:
        for photo in form["_photos"][:MAX_PHOTOS + 1]:
            check_photo(photo)  # a bad photo is refused before anything is written
        with attempt(session):
            case = aftersales.open_case(
                session, who, requested=str(form.get("requested", "")), reason=str(form.get("reason", "")),
                loan_id=loan_id, description=str(form.get("description", ""))[:500],
                idempotency_key=str(form.get("form_key", ""))[:64] or None)
            if form["_photos"] and not case.photos:
                case.photos = store_photos(case.id, form["_photos"])
    except DomainError as exc:
        return error_page(request, exc, back, exc.status)
    return RedirectResponse(f"/shop/aftersales/{case.id}", status_code=303)


@router.get("/shop/aftersales", response_class=HTMLResponse)
def my_cases(request: Request, session: SessionDep, who: Principal = Shopper) -> HTMLResponse:
    lang = request_language(request)
    cases = [aftersales.case_json(session, c, lang) for c in aftersales.list_cases(session, who)]
    complaints = [fb.complaint_json(c, lang) for c in fb.list_complaints(session, who)]
    return render(request, "shopper/aftersales/list.html", {"cases": cases, "complaints": complaints,
                                                            "status": STATUS, "kinds": KINDS})


@router.get("/shop/aftersales/{case_id}", response_class=HTMLResponse)
def case_page(case_id: EntityId, request: Request, session: SessionDep,
              who: Principal = Shopper) -> HTMLResponse:
    lang = request_language(request)
    case = aftersales.get_case(session, case_id, who)
    body = aftersales.case_json(session, case, lang)
    ticket = ticket_for_case(session, case.id)
    return render(request, "shopper/aftersales/case.html", {
        "case": body, "status": STATUS, "refund_status": REFUND_STATUS, "channels": CHANNELS, "kinds": KINDS,
        "repair": ticket_json(ticket, business_date(session), policy_of_case(session, case.policy_id))
        if ticket else None, "repair_names": NAMES, "difference_payment": difference_order_json(session, case),
        "form_key": secrets.token_hex(16),
        "rating": fb.rating_of(session, who, about=case.outcome or "", subject_id=case.id)})


@router.post("/shop/aftersales/{case_id}/cancel")
def case_cancel(case_id: EntityId, request: Request, session: SessionDep,
                who: Principal = Shopper) -> Response:
    try:
        with attempt(session):
            aftersales.cancel_case(session, who, case_id)
    except DomainError as exc:
        return error_page(request, exc, f"/shop/aftersales/{case_id}", exc.status)
    return RedirectResponse(f"/shop/aftersales/{case_id}", status_code=303)


@router.post("/shop/aftersales/{case_id}/reprice/sign")
def case_reprice_sign(case_id: EntityId, request: Request, form: dict[str, Any] = Depends(_form),
                      *, session: SessionDep, who: Principal = Shopper) -> Response:
    back = f"/shop/aftersales/{case_id}"
    try:
        with attempt(session):
            if form.get("agree") != "on":
                raise InvalidInput("agree", zh="请勾选同意新合同", en="Tick the box to agree to the new contract")
            reprice.sign(session, who, case_id, str(form.get("contract_sha256", "")))
    except DomainError as exc:
        return error_page(request, exc, back, exc.status)
    return RedirectResponse(back, status_code=303)


@router.post("/shop/aftersales/{case_id}/reprice/abandon")
def case_reprice_abandon(case_id: EntityId, request: Request, session: SessionDep,
                         who: Principal = Shopper) -> Response:
    back = f"/shop/aftersales/{case_id}"
    try:
        with attempt(session):
            reprice.abandon(session, who, case_id)
    except DomainError as exc:
        return error_page(request, exc, back, exc.status)
    return RedirectResponse(back, status_code=303)


@router.post("/shop/aftersales/{case_id}/rate")
def case_rate(case_id: EntityId, request: Request, form: dict[str, Any] = Depends(_form),
              *, session: SessionDep, who: Principal = Shopper) -> Response:
    back = f"/shop/aftersales/{case_id}"
    try:
        with attempt(session):
            case = aftersales.get_case(session, case_id, who)
            raw = str(form.get("score", "")).strip()
            if not raw.isdecimal() or len(raw) > 2:
                raise InvalidInput("score", zh="请选择 0 到 10 分的评分", en="Choose a score from 0 to 10")
            fb.rate(session, who, about=case.outcome or "", subject_id=case.id, score=int(raw),
                    comment=str(form.get("comment", "")).strip())
    except DomainError as exc:
        return error_page(request, exc, back, exc.status)
    return RedirectResponse(back + "?rated=1", status_code=303)


@router.get("/shop/complaints/new", response_class=HTMLResponse)
def complaint_form(request: Request, loan: EntityId | None = None, who: Principal = Shopper) -> HTMLResponse:
    return render(request, "shopper/aftersales/complaint.html", {"categories": fb.CATEGORIES, "loan": loan})


@router.post("/shop/complaints")
def complaint_submit(request: Request, form: dict[str, Any] = Depends(_form), *, session: SessionDep,
                     who: Principal = Shopper) -> Response:
    try:
        with attempt(session):
            loan = str(form.get("loan_id", "")).strip()
            fb.file_complaint(session, who, category=str(form.get("category", "")), text=str(form.get("text", "")),
                              loan_id=parse_id(loan, field="loan_id") if loan else None)
    except DomainError as exc:
        return error_page(request, exc, "/shop/complaints/new", exc.status)
    return RedirectResponse("/shop/aftersales", status_code=303)
