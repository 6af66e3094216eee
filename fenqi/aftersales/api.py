"""HTTP for after-sales: cases (return, exchange, repair), repair tickets, policies, feedback, complaints.

Every state change needs an `Idempotency-Key` header: the same key (per user) gets the same answer again
and changes nothing. Shoppers act on their own loans only; clerks and owners on their merchant's phones.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from fenqi.aftersales import feedback as fb
from fenqi.aftersales import repairs, reprice, returns, service
from fenqi.aftersales.exchanges import difference_order_json
from fenqi.aftersales.idempotency import KeyHeader, idempotent
from fenqi.aftersales.policies import policy_for, policy_of_case, set_policy
from fenqi.aftersales.policy import policy_to_json
from fenqi.aftersales.refunds_api import router as manual_refunds_router
from fenqi.aftersales.schemas import (
    CaseList,
    CaseOut,
    ComplaintDetail,
    ComplaintList,
    ComplaintOut,
    FeedbackOut,
    NpsOut,
    PolicyOut,
)
from fenqi.aftersales.slip import intake_slip
from fenqi.identity.deps import Principal, current_principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.clock import business_date
from fenqi.kit.db import Session
from fenqi.kit.errors import Forbidden, InvalidInput
from fenqi.kit.idempotency import remember_body
from fenqi.kit.web import SessionDep, request_language

# Every change's body is fingerprinted for its Idempotency-Key (fenqi.kit.idempotency).
router = APIRouter(prefix="/api/v1/aftersales", tags=["aftersales"], dependencies=[Depends(remember_body)])
desk = require_roles("clerk", "merchant_owner")
staff = require_roles("clerk", "merchant_owner", "finance", "risk_officer", "collector")


def _case(session: Session, case_id: int, lang: str) -> dict[str, Any]:
    case = service.get_case(session, case_id)
    body = service.case_json(session, case, lang)
    ticket = repairs.ticket_for_case(session, case.id)
    body["repair"] = (repairs.ticket_json(ticket, business_date(session), policy_of_case(session, case.policy_id))
                      if ticket else None)

    body["difference_payment"] = difference_order_json(session, case)
    return body


# --- policies -------------------------------------------------------------------------------------


@router.get("/policy", response_model=PolicyOut,
            summary="The after-sales policy in force for a merchant (三包 windows, checklist)")
def get_policy(merchant_id: EntityId | None = Query(None), *, session: SessionDep,
               who: Principal = Depends(staff)) -> dict[str, Any]:
    merchant = merchant_id or who.merchant_id
    if merchant is None:
        raise InvalidInput.saying("请指定商户 merchant_id", "merchant_id is required")
    if who.role in ("clerk", "merchant_owner") and merchant != who.merchant_id:
        raise Forbidden()
    policy, row = policy_for(session, merchant)
    return {"merchant_id": merchant, "version": row.version if row else 0, "rules": policy_to_json(policy)}


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    merchant_id: EntityId | None = Field(None, description="None: the platform default (admin)")
    rules: dict[str, Any]
    note: str = Field("", max_length=200)


@router.post("/policies", response_model=PolicyOut, summary="A new version of a merchant's after-sales policy")
def post_policy(body: PolicyIn, request: Request, key: str | None = KeyHeader,
                *, session: SessionDep,
                who: Principal = Depends(require_roles("merchant_owner"))) -> dict[str, Any]:
    if who.role != "admin" and body.merchant_id != who.merchant_id:
        raise Forbidden()

    def act() -> dict[str, Any]:
        row = set_policy(session, merchant_id=body.merchant_id, rules=body.rules, note=body.note,
                         actor_user_id=who.user_id)
        return {"merchant_id": row.merchant_id, "version": row.version, "rules": row.rules}

    return idempotent(session, request, who, key, act)


# --- cases ----------------------------------------------------------------------------------------


class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "example": {"loan_id": 42, "requested": "return", "reason": "no_reason", "description": "不喜欢颜色"}})
    loan_id: EntityId | None = Field(None, description="The shopper's loan")
    imei: str | None = Field(None, max_length=20, description="Scanned at the store desk")
    requested: Literal["return", "exchange", "repair"]
    reason: Literal["no_reason", "fault"]
    part: Literal["handset", "charger", "battery", "headset"] = "handset"
    description: str = Field("", max_length=500)


@router.post("/cases", status_code=201, response_model=CaseOut, summary="Open an after-sales case (申请售后)")
def open_case(body: CaseIn, request: Request, key: str | None = KeyHeader, *, session: SessionDep,
              who: Principal = Depends(current_principal)) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        case = service.open_case(session, who, requested=body.requested, reason=body.reason, loan_id=body.loan_id,
                                 imei=body.imei, description=body.description, part=body.part)
        return _case(session, case.id, request_language(request))

    return idempotent(session, request, who, key, act)


@router.get("/cases", response_model=CaseList,
            summary="After-sales cases (a shopper's own, a merchant's, or all for operations)")
def list_cases(request: Request, status: str | None = Query(None, max_length=20),
               loan_id: EntityId | None = Query(None), limit: int = Query(100, ge=1, le=500),
               training: bool = Query(False, description="Operations: a training store's practice instead"),
               *, session: SessionDep, who: Principal = Depends(current_principal)
               ) -> dict[str, Any]:
    lang = request_language(request)
    rows = service.list_cases(session, who, status=status, loan_id=loan_id, limit=limit, training=training)
    return {"cases": [service.case_json(session, c, lang) for c in rows]}


@router.get("/cases/{case_id}", response_model=CaseOut,
            summary="A case: proposal, steps, refunds and where each went, events")
def get_case(case_id: EntityId, request: Request, session: SessionDep,
             who: Principal = Depends(current_principal)) -> dict[str, Any]:
    service.get_case(session, case_id, who)
    return _case(session, case_id, request_language(request))


class InspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"results": {"seal": True}}})
    results: dict[str, bool] = Field(description="Every checklist item: passed (true) or failed (false)")


@router.post("/cases/{case_id}/inspection", response_model=CaseOut,
             summary="The desk's inspection checklist; the proposal is updated")
def inspect(case_id: EntityId, body: InspectionIn, request: Request, key: str | None = KeyHeader,
            *, session: SessionDep, who: Principal = Depends(desk)) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        service.inspect(session, who, case_id, body.results)
        return _case(session, case_id, request_language(request))

    return idempotent(session, request, who, key, act)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"outcome": "return"}})
    outcome: Literal["return", "exchange", "repair"]
    note: str = Field("", max_length=500)
    new_imei: str | None = Field(None, max_length=20, description="Exchange: the phone handed out instead")
    settle: Literal["cashier", "new_plan"] = Field(
        "cashier", description="A pricier exchange: the difference paid at the cashier (an extra down payment), "
                               "or financed as a new plan the shopper signs (if risk allows)")
    term: int | None = Field(None, ge=1, le=60, description="new_plan: open periods (as many as are left, or a "
                                                             "longer term of the product)")


@router.post("/cases/{case_id}/decision", response_model=CaseOut,
             summary="Choose an outcome the policy allows; its workflow starts")
def decide(case_id: EntityId, body: DecisionIn, request: Request, key: str | None = KeyHeader,
           *, session: SessionDep, who: Principal = Depends(desk)) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        service.decide(session, who, case_id, body.outcome, note=body.note, new_imei=body.new_imei,
                       settle=body.settle, term=body.term)
        return _case(session, case_id, request_language(request))

    return idempotent(session, request, who, key, act)


class RepriceSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"contract_sha256": "ab12…"}})
    contract_sha256: str = Field(min_length=64, max_length=64, pattern="^[0-9a-fA-F]{64}$",
                                 description="The hash of the addendum shown (reprice.contract_sha256)")


@router.post("/cases/{case_id}/reprice/sign", response_model=CaseOut,
             summary="The shopper signs the re-priced plan's contract: the loan, funder and phones move")
def reprice_sign(case_id: EntityId, body: RepriceSignIn, request: Request, key: str | None = KeyHeader,
                 *, session: SessionDep, who: Principal = Depends(current_principal)) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        reprice.sign(session, who, case_id, body.contract_sha256)
        return _case(session, case_id, request_language(request))

    return idempotent(session, request, who, key, act)


@router.post("/cases/{case_id}/reprice/abandon", response_model=CaseOut,
             summary="Drop an unsigned re-priced plan (nothing changed); the case is decided again")
def reprice_abandon(case_id: EntityId, request: Request, key: str | None = KeyHeader,
                    *, session: SessionDep, who: Principal = Depends(current_principal)) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        reprice.abandon(session, who, case_id)
        return _case(session, case_id, request_language(request))

    return idempotent(session, request, who, key, act)


@router.get("/cases/{case_id}/reprice/contract.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}},
            summary="The re-priced plan's contract (addendum) as a PDF")
def reprice_contract(case_id: EntityId, session: SessionDep,
                     who: Principal = Depends(current_principal)) -> Response:
    pdf = reprice.contract_pdf(session, who, case_id)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="addendum-{case_id}.pdf"'})


@router.post("/cases/{case_id}/resume", response_model=CaseOut,
             summary="Finish a return's remaining steps (retry refunds)")
def resume(case_id: EntityId, request: Request, key: str | None = KeyHeader, *, session: SessionDep,
           who: Principal = Depends(require_roles("clerk", "merchant_owner", "finance"))) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        returns.resume(session, service.get_case(session, case_id, who, lock=True))
        return _case(session, case_id, request_language(request))

    return idempotent(session, request, who, key, act)


class RefuseIn(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"example": {"reason": "门店购买的手机不适用无理由退货"}})
    reason: str = Field(min_length=1, max_length=200, description="Why the case is refused (told to the shopper)")


@router.post("/cases/{case_id}/refuse", response_model=CaseOut,
             summary="The desk refuses a case not yet processed, with a reason (不予受理); the phone is free again")
def refuse(case_id: EntityId, body: RefuseIn, request: Request, key: str | None = KeyHeader,
           *, session: SessionDep, who: Principal = Depends(desk)) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        service.refuse_case(session, who, case_id, body.reason)
        return _case(session, case_id, request_language(request))

    return idempotent(session, request, who, key, act)


@router.post("/cases/{case_id}/cancel", response_model=CaseOut, summary="Withdraw a case not yet processed")
def cancel(case_id: EntityId, request: Request, key: str | None = KeyHeader, *, session: SessionDep,
           who: Principal = Depends(current_principal)) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        service.cancel_case(session, who, case_id)
        return _case(session, case_id, request_language(request))

    return idempotent(session, request, who, key, act)


# --- repairs --------------------------------------------------------------------------------------


class RepairMoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["diagnosing", "repairing", "ready", "collected", "failed"]
    note: str = Field("", max_length=500)


@router.post("/repairs/{ticket_id}/status", response_model=CaseOut,
             summary="Move a repair ticket (failed: the fault is back)")
def repair_status(ticket_id: EntityId, body: RepairMoveIn, request: Request, key: str | None = KeyHeader,
                  *, session: SessionDep, who: Principal = Depends(desk)) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        ticket = repairs.move(session, who, ticket_id, body.status, note=body.note)
        return _case(session, ticket.case_id, request_language(request))

    return idempotent(session, request, who, key, act)


class LoanerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    imei: str = Field(max_length=20)


@router.post("/repairs/{ticket_id}/loaner", response_model=CaseOut,
             summary="Lend a loaner phone by IMEI during the repair")
def repair_loaner(ticket_id: EntityId, body: LoanerIn, request: Request, key: str | None = KeyHeader,
                  *, session: SessionDep, who: Principal = Depends(desk)) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        ticket = repairs.lend_loaner(session, who, ticket_id, body.imei)
        return _case(session, ticket.case_id, request_language(request))

    return idempotent(session, request, who, key, act)


@router.post("/repairs/{ticket_id}/escalate", response_model=CaseOut,
             summary="Failed repairs: turn the case into an exchange")
def repair_escalate(ticket_id: EntityId, request: Request, key: str | None = KeyHeader,
                    *, session: SessionDep, who: Principal = Depends(desk)) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        case = repairs.escalate_to_exchange(session, who, ticket_id)
        return _case(session, case.id, request_language(request))

    return idempotent(session, request, who, key, act)


@router.get("/repairs/{ticket_id}/slip.pdf", summary="The repair intake slip (维修受理单), PDF",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}})
def repair_slip(ticket_id: EntityId, session: SessionDep,
                who: Principal = Depends(current_principal)) -> Response:
    ticket = repairs.get_ticket(session, ticket_id, who)
    pdf = intake_slip(session, ticket)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="repair-{ticket.id}.pdf"'})


# --- feedback and complaints ------------------------------------------------------------------------


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    about: Literal["purchase", "return", "exchange", "repair"]
    subject_id: EntityId = Field(description="The loan (purchase) or the case")
    score: int = Field(ge=0, le=10)
    comment: str = Field("", max_length=500)


@router.post("/feedback", status_code=201, response_model=FeedbackOut,
             summary="Rate a purchase or a finished case (0–10)")
def post_feedback(body: FeedbackIn, request: Request, key: str | None = KeyHeader,
                  *, session: SessionDep,
                  who: Principal = Depends(require_roles("shopper"))) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        row = fb.rate(session, who, about=body.about, subject_id=body.subject_id, score=body.score,
                      comment=body.comment)
        return {"id": row.id, "about": row.about, "subject_id": row.subject_id, "score": row.score}

    return idempotent(session, request, who, key, act)


@router.get("/nps", response_model=NpsOut, summary="Net promoter score over the ratings")
def get_nps(merchant_id: EntityId | None = Query(None), *, session: SessionDep,
            who: Principal = Depends(staff)) -> dict[str, Any]:
    if who.role in ("clerk", "merchant_owner"):
        merchant_id = who.merchant_id
    return fb.nps(session, merchant_id)


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Literal["device", "fees", "collections", "staff", "payment"]
    text: str = Field(min_length=1, max_length=1000)
    loan_id: EntityId | None = Field(None)


@router.post("/complaints", status_code=201, response_model=ComplaintOut,
             summary="File a complaint (投诉): answered within 24 h")
def post_complaint(body: ComplaintIn, request: Request, key: str | None = KeyHeader,
                   *, session: SessionDep,
                   who: Principal = Depends(require_roles("shopper"))) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        row = fb.file_complaint(session, who, category=body.category, text=body.text, loan_id=body.loan_id)
        return fb.complaint_json(row, request_language(request))

    return idempotent(session, request, who, key, act)


@router.get("/complaints", response_model=ComplaintList,
            summary="Complaints (own, the merchant's, or all), soonest deadline first")
def list_complaints(request: Request, status: str | None = Query(None, max_length=20),
                    training: bool = Query(False, description="Operations: a training store's practice instead"),
                    *, session: SessionDep, who: Principal = Depends(current_principal)
                    ) -> dict[str, Any]:
    lang = request_language(request)
    return {"complaints": [fb.complaint_json(c, lang) for c in fb.list_complaints(session, who, status=status,
                                                                                  training=training)]}


@router.get("/complaints/{complaint_id}", response_model=ComplaintDetail, summary="A complaint with its history")
def get_complaint(complaint_id: EntityId, request: Request, session: SessionDep,
                  who: Principal = Depends(current_principal)) -> dict[str, Any]:
    row = fb.get_complaint(session, complaint_id, who)
    lang = request_language(request)
    body = fb.complaint_json(row, lang)
    body["events"] = [{"at": e.created_at.isoformat(), "kind": e.kind, "text": e.zh if lang == "zh" else e.en}
                      for e in service.events(session, f"complaint:{row.id}")]
    return body


class ComplaintStepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["assign", "respond", "escalate", "resolve"]
    text: str = Field("", max_length=1000, description="The response, the resolution notes or the reason")
    assignee_user_id: EntityId | None = Field(None)


@router.post("/complaints/{complaint_id}/steps", response_model=ComplaintOut,
             summary="Assign, respond, escalate or resolve a complaint")
def complaint_step(complaint_id: EntityId, body: ComplaintStepIn, request: Request, key: str | None = KeyHeader,
                   *, session: SessionDep, who: Principal = Depends(staff)) -> dict[str, Any]:
    def act() -> dict[str, Any]:
        if body.action == "assign":
            row = fb.assign(session, who, complaint_id, body.assignee_user_id or who.user_id)
        elif body.action == "respond":
            row = fb.respond(session, who, complaint_id, body.text)
        elif body.action == "escalate":
            row = fb.escalate(session, who, complaint_id, body.text)
        else:
            row = fb.resolve(session, who, complaint_id, body.text)
        return fb.complaint_json(row, request_language(request))

    return idempotent(session, request, who, key, act)


# Finance's handling of a return's refunds waiting for a person (需人工处理).
router.include_router(manual_refunds_router)
