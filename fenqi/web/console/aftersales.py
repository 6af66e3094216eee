"""After-sales in the consoles: the store's desk (/merchant/aftersales: scan the IMEI, inspect with the
checklist, see the proposed outcome and why, process; repair tickets) and the operations queue
(/ops/aftersales: open cases, deadline breaches, return and repair rates by model and store, complaints)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.aftersales import feedback as fb
from fenqi.aftersales import repairs, reprice, returns
from fenqi.aftersales import service as aftersales
from fenqi.aftersales.policies import policy_of_case
from fenqi.aftersales.policy import OUTCOME_NAMES
from fenqi.catalog.service import get_sku, store_names
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.clock import business_date
from fenqi.kit.errors import DomainError, InvalidInput
from fenqi.kit.web import SessionDep, request_language
from fenqi.origination.lookups import sold_per_sku_and_store
from fenqi.web.errors import NoMessage, page_error_text
from fenqi.web.render import render
from fenqi.web.shopper.aftersales import REFUND_STATUS, STATUS
from fenqi.web.shopper.common import CHANNELS, attempt

router = APIRouter(include_in_schema=False)
desk = require_roles("clerk", "merchant_owner")
ops = require_roles("risk_officer", "collector", "finance")
COMPLAINT_STATUS = {"open": ("待答复", "open"), "answered": ("已答复", "answered"),
                    "escalated": ("已升级", "escalated"), "resolved": ("已解决", "resolved")}


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


Fields = Depends(_fields)


def _back(case_id: int) -> Response:
    return RedirectResponse(f"/merchant/aftersales/{case_id}", status_code=303)


@router.get("/merchant/aftersales", response_class=HTMLResponse)
def desk_home(request: Request, error: str = NoMessage, *, session: SessionDep,
              who: Principal = Depends(desk)) -> HTMLResponse:
    lang = request_language(request)
    cases = [aftersales.case_json(session, c, lang) for c in aftersales.list_cases(session, who, limit=50)]
    return render(request, "merchant/aftersales.html", {"who": who, "cases": cases, "error": error,
                                                        "outcomes": OUTCOME_NAMES, "status": STATUS})


@router.post("/merchant/aftersales")
def desk_open(request: Request, form: dict[str, str] = Fields, *, session: SessionDep,
              who: Principal = Depends(desk)) -> Response:
    try:
        with attempt(session):
            case = aftersales.open_case(session, who, imei=form.get("imei", "").strip(),
                                        requested=form.get("requested", "repair"),
                                        reason=form.get("reason", "fault"), part=form.get("part", "handset"),
                                        description=form.get("description", ""))
    except DomainError as exc:
        return desk_home(request, page_error_text(request, exc), session=session, who=who)
    return _back(case.id)


@router.get("/merchant/aftersales/{case_id}", response_class=HTMLResponse)
def desk_case(case_id: EntityId, request: Request, error: str = NoMessage, *, session: SessionDep,
              who: Principal = Depends(desk)) -> HTMLResponse:
    lang = request_language(request)
    case = aftersales.get_case(session, case_id, who)
    ticket = repairs.ticket_for_case(session, case.id)
    return render(request, "merchant/aftersales_case.html", {
        "who": who, "case": aftersales.case_json(session, case, lang), "error": error,
        "checklist": policy_of_case(session, case.policy_id).checklist, "outcomes": OUTCOME_NAMES,
        "repair": repairs.ticket_json(ticket, business_date(session), policy_of_case(session, case.policy_id))
        if ticket else None, "status": STATUS, "refund_status": REFUND_STATUS, "channels": CHANNELS,
        "moves": repairs.MOVES.get(ticket.status, ()) if ticket else (), "repair_names": repairs.NAMES})


def _act(request: Request, session: Session, case_id: EntityId, action: Any) -> Response:
    try:
        with attempt(session):
            action()
    except DomainError as exc:
        return desk_case(case_id, request, page_error_text(request, exc), session=session,
                         who=request.state.principal)
    return _back(case_id)


@router.post("/merchant/aftersales/{case_id}/inspect")
def desk_inspect(case_id: EntityId, request: Request, form: dict[str, str] = Fields,
                 *, session: SessionDep, who: Principal = Depends(desk)) -> Response:
    case = aftersales.get_case(session, case_id, who)
    codes = [i.code for i in policy_of_case(session, case.policy_id).checklist]
    # A ticked box is an item that passed; an unticked one failed.
    results = {code: form.get(f"check-{code}") == "on" for code in codes}
    return _act(request, session, case_id, lambda: aftersales.inspect(session, who, case_id, results))


@router.post("/merchant/aftersales/{case_id}/decide")
def desk_decide(case_id: EntityId, request: Request, form: dict[str, str] = Fields,
                *, session: SessionDep, who: Principal = Depends(desk)) -> Response:
    term = form.get("term", "").strip()
    if term and not (term.isdecimal() and 0 < int(term) <= 60):
        return desk_case(case_id, request, page_error_text(request, InvalidInput(
            "term: 1..60", zh="期数须为 1 到 60 之间的整数", en="The term is a whole number from 1 to 60")),
            session=session, who=who)
    return _act(request, session, case_id, lambda: aftersales.decide(
        session, who, case_id, form.get("outcome", ""), note=form.get("note", ""),
        new_imei=form.get("new_imei", "").strip() or None, settle=form.get("settle") or None,
        term=int(term) if term else None))


@router.post("/merchant/aftersales/{case_id}/refuse")
def desk_refuse(case_id: EntityId, request: Request, form: dict[str, str] = Fields,
                *, session: SessionDep, who: Principal = Depends(desk)) -> Response:
    return _act(request, session, case_id,
                lambda: aftersales.refuse_case(session, who, case_id, form.get("reason", "")))


@router.post("/merchant/aftersales/{case_id}/reprice/abandon")
def desk_reprice_abandon(case_id: EntityId, request: Request, session: SessionDep,
                         who: Principal = Depends(desk)) -> Response:
    return _act(request, session, case_id, lambda: reprice.abandon(session, who, case_id))


@router.post("/merchant/aftersales/{case_id}/resume")
def desk_resume(case_id: EntityId, request: Request, session: SessionDep,
                who: Principal = Depends(desk)) -> Response:
    return _act(request, session, case_id,
                lambda: returns.resume(session, aftersales.get_case(session, case_id, who, lock=True)))


@router.post("/merchant/aftersales/{case_id}/repair")
def desk_repair(case_id: EntityId, request: Request, form: dict[str, str] = Fields,
                *, session: SessionDep, who: Principal = Depends(desk)) -> Response:
    ticket = repairs.ticket_for_case(session, case_id)
    if ticket is None:
        return _back(case_id)
    tid = ticket.id
    action = form.get("action", "")
    if action == "loaner":
        return _act(request, session, case_id, lambda: repairs.lend_loaner(session, who, tid, form.get("imei", "")))
    if action == "escalate":
        return _act(request, session, case_id, lambda: repairs.escalate_to_exchange(session, who, tid))
    return _act(request, session, case_id,
                lambda: repairs.move(session, who, tid, action, note=form.get("note", "")))


# --- operations ---------------------------------------------------------------------------------------


@router.get("/ops/aftersales", response_class=HTMLResponse)
def ops_queue(request: Request, error: str = NoMessage, view: str = Query("", max_length=20), *,
              session: SessionDep, who: Principal = Depends(ops)) -> HTMLResponse:
    lang = request_language(request)
    today = business_date(session)
    training = view == "training"  # a training store's practice, only when asked for
    open_cases = [aftersales.case_json(session, c, lang)
                  for c in aftersales.list_cases(session, who, status="open", limit=200, training=training)]
    tickets = repairs.open_tickets(session, training)
    late_repairs = [repairs.ticket_json(t, today) for t in tickets if repairs.is_breached(t, today)]
    complaints = [fb.complaint_json(c, lang)
                  for c in fb.list_complaints(session, who, status="open", limit=200, training=training)]
    rates = _rates(session, request_language(request), training)
    return render(request, "ops/aftersales.html", {"training": training,
        "who": who, "cases": open_cases, "late_repairs": late_repairs, "complaints": complaints, "rates": rates,
        "nps": fb.nps(session), "outcomes": OUTCOME_NAMES, "error": error, "status": STATUS,
        "refund_status": REFUND_STATUS, "channels": CHANNELS, "repair_names": repairs.NAMES,
        "complaint_status": COMPLAINT_STATUS})


def _rates(session: Session, lang: str = "zh", training: bool = False) -> list[dict[str, Any]]:
    """Returns and repairs by phone (named as people name it) and store, against the phones sold there."""
    def phone(code: str) -> str:
        try:
            sku = get_sku(session, code, with_stock=False)
        except DomainError:
            return code
        return sku.name_zh if lang == "zh" else sku.name_en

    per_sku_store = sold_per_sku_and_store(session, training)
    names = store_names(session, {store_id for _, store_id in per_sku_store})
    sold = {(sku, store_id, names[store_id]): n for (sku, store_id), n in per_sku_store.items() if store_id in names}
    counts = aftersales.outcome_counts(session, training)
    rows = []
    for (sku, store_id, store_name), n in sorted(sold.items()):
        returned, repaired = counts[(sku, store_id, "return")], counts[(sku, store_id, "repair")]
        exchanged = counts[(sku, store_id, "exchange")]
        if returned or repaired or exchanged:
            rows.append({"sku": phone(sku), "store": store_name, "sold": n, "returns": returned, "exchanges": exchanged,
                         "repairs": repaired, "return_rate": f"{returned * 100 / n:.1f}%" if n else "—"})
    return rows


@router.post("/ops/aftersales/complaints/{complaint_id}")
def ops_complaint(complaint_id: EntityId, request: Request, form: dict[str, str] = Fields,
                  *, session: SessionDep, who: Principal = Depends(ops)) -> Response:
    action, text = form.get("action", ""), form.get("text", "")
    try:
        with attempt(session):
            if action == "assign":
                fb.assign(session, who, complaint_id, who.user_id)
            elif action == "respond":
                fb.respond(session, who, complaint_id, text)
            elif action == "escalate":
                fb.escalate(session, who, complaint_id, text)
            else:
                fb.resolve(session, who, complaint_id, text)
    except DomainError as exc:
        return ops_queue(request, page_error_text(request, exc), session=session, who=who)
    return RedirectResponse("/ops/aftersales#complaints", status_code=303)
