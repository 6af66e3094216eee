"""Operations console, collections: the case queue, assignment, the case workspace (schedule, what is owed
today, payments, contact log, the audited phone reveal, promises to pay, the pay-link SMS), collector
performance and the lead's view.

Collectors see and work only the cases assigned to them; the collections lead (and admin) see every case
and assign them. A case another collector holds answers 404, like one that does not exist."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.collections import cases as cases_service
from fenqi.collections.cases import BUCKET_ORDER, Scope
from fenqi.collections.contacts import (
    CALL_OUTCOMES,
    VISIT_OUTCOMES,
    calls_per_day,
    contacts_of,
    log_contact,
    masked_phone,
    messages_per_day,
    reveal_phone,
    send_pay_link,
)
from fenqi.collections.hardship_requests import outcomes
from fenqi.collections.performance import collector_figures, supervisor_view
from fenqi.collections.promises import promises_of, record_promise
from fenqi.identity.deps import Principal, require_roles
from fenqi.identity.service import staff_with_role
from fenqi.kit.bounds import AmountText, EntityId
from fenqi.kit.clock import business_date
from fenqi.kit.errors import DomainError, InvalidInput
from fenqi.kit.web import SessionDep
from fenqi.servicing.service import amount_due, get_loan, installments, next_bill, repayments
from fenqi.web.errors import page_error_text
from fenqi.web.render import TEMPLATES, render

if TYPE_CHECKING:  # the case comes from collections' services; its table is not read here
    from fenqi.collections.models_cases import CollectionCase

router = APIRouter(prefix="/ops", include_in_schema=False)
CASE_STAFF = ("collector", "collection_lead")
LEADS = ("collection_lead", "admin")
staff = require_roles(*CASE_STAFF)
leads = require_roles("collection_lead")

CLOSE_REASONS = {"cured": ("已还至正常", "Cured"), "paid_off": ("已结清", "Paid off"),
                 "written_off": ("已核销", "Written off"), "settled": ("和解结清", "Settled"),
                 "cancelled": ("已退货取消", "Cancelled (returned)")}
CONTACT_KINDS = {"call": ("电话", "Call"), "sms": ("短信", "SMS"), "visit": ("上门", "Visit"), "note": ("备注", "Note")}
OUTCOMES = {"answered": ("已接通", "Answered"), "no_answer": ("无人接听", "No answer"),
            "promised": ("承诺还款", "Promised to pay"), "refused": ("拒绝还款", "Refused"),
            "wrong_number": ("号码错误", "Wrong number"), "busy": ("占线", "Busy"), "met": ("已见面", "Met"),
            "not_home": ("不在家", "Not at home")}
PROMISE_STATUS = {"pending": ("待兑现", "Pending"), "kept": ("已兑现", "Kept"), "broken": ("未兑现", "Broken")}


def _label(table: dict[str, tuple[str, str]], code: str | None, lang: str) -> str:
    if not code:
        return ""
    zh, en = table.get(code, (code, code))
    return zh if lang == "zh" else en


# Times: the shared `local_time` filter of fenqi.web.render (datetimes and ISO text alike).
TEMPLATES.env.globals["case_label"] = _label
TEMPLATES.env.globals["CONTACT_KINDS"] = CONTACT_KINDS
TEMPLATES.env.globals["OUTCOMES"] = OUTCOMES


def scope_of(who: Principal) -> Scope:
    return Scope(who.user_id, who.role in LEADS)


def _collectors(session: Session) -> dict[int, str]:
    return staff_with_role(session, "collector")


@router.get("/cases", response_class=HTMLResponse)
def queue_page(request: Request, bucket: str = "", view: str = "", who: Principal = Depends(staff),
               *, session: SessionDep) -> HTMLResponse:
    scope = scope_of(who)
    error = ""
    bucket = bucket if bucket in BUCKET_ORDER else ""
    rows = cases_service.queue(session, scope, bucket=bucket, unassigned=view == "unassigned")
    collectors = _collectors(session) if scope.sees_all else {}
    loans = {r.id: masked_phone(session, r.loan_id) for r in rows}
    return render(request, "ops/cases.html", {
        "rows": rows, "bucket": bucket, "view": view, "who": who, "buckets": BUCKET_ORDER, "error": error,
        "collectors": collectors, "phones": loans, "sees_all": scope.sees_all,
        "notice": request.query_params.get("n", ""),
    })


@router.post("/cases/assign-auto")
def assign_auto(bucket: str = Form(""), who: Principal = Depends(leads),
                *, session: SessionDep) -> Response:
    if bucket and bucket not in BUCKET_ORDER:
        raise InvalidInput("bucket", zh="逾期分组应为 M1、M2、M3 或 M4+",
                           en="The overdue bucket must be M1, M2, M3 or M4+")
    n = cases_service.assign_round_robin(session, list(_collectors(session)), bucket=bucket)
    return RedirectResponse(f"/ops/cases?n={n}", 303)


@router.post("/cases/{case_id}/assign")
def assign_one(case_id: EntityId, collector: str = Form(""), who: Principal = Depends(leads),
               *, session: SessionDep) -> Response:
    target = int(collector) if collector.isdecimal() and len(collector) < 19 else None
    if collector and target is None:
        raise InvalidInput("collector", zh="请选择一名催收专员", en="Choose a collector")
    cases_service.assign(session, case_id, target, _collectors(session))
    return RedirectResponse(f"/ops/cases/{case_id}", 303)


def _workspace(request: Request, session: Session, who: Principal, case: CollectionCase, *,
               phone: str = "", error: str = "", status_code: int = 200) -> HTMLResponse:
    loan = get_loan(session, case.loan_id)
    rows = installments(session, loan.id)
    today = business_date(session)
    owed_today = amount_due(session, loan.id)  # servicing's own figure: never recomputed here
    scope = scope_of(who)
    return render(request, "ops/case.html", {
        "case": case, "loan": loan, "schedule": rows, "bill": next_bill(loan, rows), "owed_today": owed_today,
        "repayments": repayments(session, loan.id), "contacts": contacts_of(session, loan.id),
        "promises": promises_of(session, case.id), "phone": phone,
        "masked": masked_phone(session, loan.id), "who": who, "today": today, "error": error,
        "call_outcomes": CALL_OUTCOMES, "visit_outcomes": VISIT_OUTCOMES, "calls_per_day": calls_per_day(),
        "messages_per_day": messages_per_day(),
        "close_reasons": CLOSE_REASONS, "promise_status": PROMISE_STATUS, "sees_all": scope.sees_all,
        "collectors": _collectors(session) if scope.sees_all else {},
        "hardship": outcomes(session, loan.id), "notice": request.query_params.get("n", ""),
    }, status_code=status_code)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: EntityId, who: Principal = Depends(staff),
              *, session: SessionDep) -> HTMLResponse:
    return _workspace(request, session, who, cases_service.get_case(session, case_id, scope_of(who)))


@router.post("/cases/{case_id}/reveal-phone", response_class=HTMLResponse)
def reveal_phone_page(request: Request, case_id: EntityId, reason: str = Form(""), who: Principal = Depends(staff),
                      *, session: SessionDep) -> HTMLResponse:
    """The full number on this response only; the reveal is written to the audit log."""
    case = cases_service.get_case(session, case_id, scope_of(who))
    phone = reveal_phone(session, who, case, reason)
    return _workspace(request, session, who, case, phone=phone)


def _attempt(request: Request, session: Session, who: Principal, case: CollectionCase, action: Any,
             notice: str) -> Response:
    """Run a workspace action in a savepoint: a refused one shows the workspace with the reason. An action
    may return the notice to show instead of `notice`."""
    try:
        with session.begin_nested():
            result = action()
            notice = result if isinstance(result, str) else notice
    except DomainError as exc:
        return _workspace(request, session, who, case, error=page_error_text(request, exc),
                          status_code=exc.status)
    return RedirectResponse(f"/ops/cases/{case.id}?n={notice}#contacts", 303)


@router.post("/cases/{case_id}/contacts")
def add_contact(request: Request, case_id: EntityId, kind: str = Form(""), outcome: str = Form(""),
                body: str = Form(""), who: Principal = Depends(staff),
                *, session: SessionDep) -> Response:
    case = cases_service.get_case(session, case_id, scope_of(who))
    return _attempt(request, session, who, case,
                    lambda: log_contact(session, who, case.loan_id, kind=kind, outcome=outcome, body=body, case=case),
                    "contact")


@router.post("/cases/{case_id}/promises")
def add_promise(request: Request, case_id: EntityId, amount: Annotated[AmountText, Form()] = "", due_on: str = Form(""),
                who: Principal = Depends(staff), *, session: SessionDep) -> Response:
    case = cases_service.get_case(session, case_id, scope_of(who))

    def act() -> None:
        try:
            day = date.fromisoformat(due_on)
        except ValueError:
            raise InvalidInput("due_on", zh="请选择承诺日期", en="Choose the date") from None
        record_promise(session, case, amount=amount, due_on=day, today=business_date(session), user_id=who.user_id)

    return _attempt(request, session, who, case, act, "promise")


@router.post("/cases/{case_id}/pay-link")
def pay_link(request: Request, case_id: EntityId, who: Principal = Depends(staff),
             *, session: SessionDep) -> Response:
    case = cases_service.get_case(session, case_id, scope_of(who))
    link = str(request.base_url).rstrip("/") + f"/shop/loans/{case.loan_id}/overdue"

    def act() -> str:
        _, held = send_pay_link(session, who, case, link=link, amount_fen=amount_due(session, case.loan_id))
        return "sms-held" if held else "sms"

    return _attempt(request, session, who, case, act, "sms")


@router.get("/collections/performance", response_class=HTMLResponse)
def performance_page(request: Request, who: Principal = Depends(staff),
                     *, session: SessionDep) -> HTMLResponse:
    collectors = _collectors(session)
    if not scope_of(who).sees_all:
        collectors = {who.user_id: who.display_name}
    figures = collector_figures(session, collectors, business_date(session))
    return render(request, "ops/collections_performance.html", {"figures": figures, "who": who})


@router.get("/collections/supervisor", response_class=HTMLResponse)
def supervisor_page(request: Request, who: Principal = Depends(leads),
                    *, session: SessionDep) -> HTMLResponse:
    view = supervisor_view(session)
    figures = collector_figures(session, _collectors(session), business_date(session))
    return render(request, "ops/collections_supervisor.html", {"view": view, "figures": figures, "who": who})
