"""HTTP: applications from SKU and plan to a signed contract.

Shopper steps are taken by the shopper (online) or by a store clerk for a walk-in shopper. A submitted
application answers at once: 201 approved (with the offer's headline), 202 referred to manual review,
422 declined with the reasons (the decline is stored: the body's `error` is the first reason's code),
409 when no funding partner has quota left today.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from fenqi.identity.deps import Principal, require_roles
from fenqi.identity.service import audit
from fenqi.kit.bounds import Amount, EntityId
from fenqi.kit.errors import NotFound
from fenqi.kit.idempotency import bind, remember_body
from fenqi.kit.money import fmt_rate, fmt_yuan, from_fen
from fenqi.kit.responses import ErrorBody
from fenqi.kit.web import SessionDep, request_language
from fenqi.origination import service, signing
from fenqi.origination import suggestions as suggested
from fenqi.origination.consents import CURRENT, TEXTS
from fenqi.origination.counter_offer import counter_offer
from fenqi.origination.errors import ApplicationState
from fenqi.origination.schemas import (
    ApplicationIn,
    ApplicationList,
    ApplicationOut,
    ConsentTexts,
    ContractOut,
    CounterOfferIn,
    OfferOut,
    RecordedConsents,
    SignedOut,
    SignIn,
    SubmittedOut,
    SuggestionsOut,
    TakeSuggestionIn,
)
from fenqi.origination.service import Origin, Submitted, application_json, get_application
from fenqi.origination.suggestions import Suggestion

router = APIRouter(prefix="/api/v1", tags=["origination"])

SHOPPER_SIDE = ("shopper", "clerk")
VIEWERS = ("shopper", "clerk", "merchant_owner", "risk_officer", "finance")
DECLINED = {"zh": "申请未通过：{reason}", "en": "The application was declined: {reason}"}


def origin(request: Request, device: str | None) -> Origin:
    ip = request.client.host if request.client else "unknown"
    return Origin(ip=ip, device=device or request.headers.get("user-agent", "unknown"))


@router.get(
    "/consents/texts", response_model=ConsentTexts,
    summary="The consent texts in force (show them; submit their versions)",
)
def consent_texts() -> dict[str, Any]:
    return {
        "consents": [
            {"kind": kind.value, "version": version, "title": {"zh": t.title_zh, "en": t.title_en},
             "text": t.body_zh, "sha256": t.sha256}
            for kind, version in CURRENT.items()
            for t in [TEXTS[(kind, version)]]
        ]
    }


def _submitted_response(request: Request, result: Submitted) -> JSONResponse:
    app, decision = result.application, result.decision
    body: dict[str, Any] = {"application": application_json(app), "decision": decision.to_json()}
    lang = request_language(request)
    if result.funding_error is not None:
        exc = result.funding_error
        return JSONResponse({"error": exc.code, "message": exc.message(lang), **body}, status_code=exc.status)
    if app.status == "declined":
        first = decision.reasons[0] if decision.reasons else None
        reason = (first.zh if lang == "zh" else first.en) if first else ("综合评分不足" if lang == "zh" else "score")
        return JSONResponse(
            {"error": first.code if first else "declined", "message": DECLINED[lang].format(reason=reason), **body},
            status_code=422,
        )
    return JSONResponse(body, status_code=202 if app.status == "referred" else 201)


@router.post(
    "/applications", summary="Submit an application: KYC, consents, decision and routing in one step",
    response_model=SubmittedOut, status_code=201, dependencies=[Depends(remember_body)],
    responses={201: {"description": "approved"},
               202: {"description": "referred to manual review", "model": SubmittedOut},
               422: {"model": ErrorBody, "description": "declined, with reasons (and the application and decision); "
                     "or a malformed request"},
               409: {"model": ErrorBody, "description": "open already / no quota; or the Idempotency-Key was "
                     "used for another body"}},
)
def submit(
    body: ApplicationIn, request: Request, session: SessionDep,
    who: Principal = Depends(require_roles(*SHOPPER_SIDE)),
    idempotency_key: str | None = Header(None, max_length=100, description="Retry safely: same key, same answer"),
) -> JSONResponse:
    # The key is the caller's for this path and bound to this body (fenqi.kit.idempotency).
    ref = bind(session, request, who.user_id, idempotency_key)
    result = service.submit(session, body, who, origin(request, body.device), ref)
    return _submitted_response(request, result)


@router.get(
    "/applications", response_model=ApplicationList,
    summary="Applications visible to the caller (personal data masked)",
)
def list_(
    status: str | None = Query(None), limit: int = Query(50, ge=1, le=200), *, session: SessionDep,
    who: Principal = Depends(require_roles(*VIEWERS)),
) -> dict[str, Any]:
    return {"applications": [application_json(a) for a in service.list_applications(session, who, status, limit)]}


@router.get(
    "/applications/{application_id}", response_model=ApplicationOut, summary="One application (personal data masked)",
)
def get(
    application_id: EntityId, session: SessionDep, who: Principal = Depends(require_roles(*VIEWERS))
) -> dict[str, Any]:
    return application_json(get_application(session, application_id, who))


@router.put(
    "/applications/{application_id}/plan", response_model=ApplicationOut,
    summary="Choose another plan within what the decision allows",
)
def change_plan(
    application_id: EntityId, product: str = Query(...), term: int = Query(...),
    down_payment: Amount | None = Query(None), *, session: SessionDep,
    who: Principal = Depends(require_roles(*SHOPPER_SIDE)),
) -> dict[str, Any]:
    app = get_application(session, application_id, who)
    service.change_plan(session, app, product=product, term=term, down_payment=down_payment)
    return application_json(app)


@router.get(
    "/applications/{application_id}/offer", response_model=OfferOut,
    summary="The offer: schedule, total cost and APR first",
)
def offer(
    application_id: EntityId, session: SessionDep,
    who: Principal = Depends(require_roles(*SHOPPER_SIDE)),
) -> dict[str, Any]:
    return signing.offer(session, get_application(session, application_id, who))


@router.post(
    "/applications/{application_id}/contract", response_model=ContractOut, status_code=201,
    summary="Draw up the e-contract PDF",
)
def contract(
    application_id: EntityId, session: SessionDep,
    who: Principal = Depends(require_roles(*SHOPPER_SIDE)),
) -> dict[str, Any]:
    app = get_application(session, application_id, who)
    doc = signing.generate_contract(session, app)
    text = TEXTS[(signing.ConsentKind.E_CONTRACT, CURRENT[signing.ConsentKind.E_CONTRACT])]
    return {
        "application_id": app.id, "contract_no": signing.contract_no(app), "sha256": doc.sha256,
        "funder": doc.funder_code, "pdf_url": f"/api/v1/applications/{app.id}/contract.pdf",
        "consent": {"kind": text.kind.value, "version": text.version, "text": text.body_zh},
    }


@router.get(
    "/applications/{application_id}/contract.pdf", summary="The latest e-contract PDF", response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF; X-Content-SHA256 its hash"}},
)
def contract_pdf(
    application_id: EntityId, session: SessionDep, who: Principal = Depends(require_roles(*VIEWERS))
) -> Response:
    app = get_application(session, application_id, who)
    doc = signing.latest_contract(session, app.id)
    if doc is None:
        raise NotFound.saying(f"申请 {application_id} 的合同", f"contract of application {application_id}")
    return Response(doc.pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{signing.contract_no(app)}.pdf"',
                             "X-Content-SHA256": doc.sha256})


@router.post(
    "/applications/{application_id}/sign", response_model=SignedOut,
    summary="Sign: loan booked, IMEI bound, merchant paid, down-payment order created",
)
def sign(
    application_id: EntityId, body: SignIn, request: Request, session: SessionDep,
    who: Principal = Depends(require_roles(*SHOPPER_SIDE)),
) -> dict[str, Any]:
    app = get_application(session, application_id, who)
    return signing.sign(session, app, contract_sha256=body.contract_sha256, consent_version=body.consent_version,
                        imei=body.imei, channel=body.channel, principal=who,
                        origin=origin(request, body.device), hb_fq_num=body.hb_fq_num).to_json()


@router.post(
    "/applications/{application_id}/cancel", response_model=ApplicationOut, summary="Withdraw an open application",
)
def cancel(
    application_id: EntityId, session: SessionDep,
    who: Principal = Depends(require_roles(*SHOPPER_SIDE)),
) -> dict[str, Any]:
    app = get_application(session, application_id, who)
    service.cancel(session, app)
    audit(session, actor_user_id=who.user_id, action="application.cancelled", subject=f"application:{app.id}")
    return application_json(app)


def _suggestion_json(s: Suggestion) -> dict[str, Any]:
    return {"key": s.key, "kind": s.kind, "sku": s.sku_code, "product": s.product_code, "term": s.term,
            "price": fmt_yuan(from_fen(s.price_fen)), "down_payment": fmt_yuan(from_fen(s.down_payment_fen)),
            "financed": fmt_yuan(from_fen(s.financed_fen)), "max_installment": fmt_yuan(from_fen(s.installment_fen)),
            "apr": fmt_rate(s.apr)}


@router.get(
    "/applications/{application_id}/suggestions", response_model=SuggestionsOut,
    summary="After a decline: the plans the rules would approve (higher down payment, longer term, cheaper phone)",
)
def suggestions(
    application_id: EntityId, session: SessionDep, who: Principal = Depends(require_roles(*SHOPPER_SIDE)),
) -> dict[str, Any]:
    app = get_application(session, application_id, who)
    return {"application_id": app.id, "suggestions": [_suggestion_json(s) for s in suggested.suggestions(session, app)]}


@router.post(
    "/applications/{application_id}/suggestions", response_model=SubmittedOut, status_code=201,
    summary="Apply again on a suggested plan, with the declined application's details and consents",
    responses={201: {"description": "approved"}, 202: {"description": "referred", "model": SubmittedOut},
               409: {"model": ErrorBody, "description": "the suggestion is no longer available / no quota"},
               422: {"model": ErrorBody, "description": "declined after all, or a malformed request"}},
)
def take_suggestion(
    application_id: EntityId, body: TakeSuggestionIn, request: Request, session: SessionDep,
    who: Principal = Depends(require_roles(*SHOPPER_SIDE)),
) -> JSONResponse:
    app = get_application(session, application_id, who)
    return _submitted_response(request, suggested.take(session, app, body.key, who, origin(request, body.device)))


@router.post(
    "/applications/{application_id}/counter-offer", response_model=ApplicationOut,
    summary="Approve a referred application on another plan within the grade's plans and the credit limit",
    responses={409: {"model": ErrorBody, "description": "not referred"},
               422: {"model": ErrorBody, "description": "outside the limit or the grade's plans"}},
)
def counter(
    application_id: EntityId, body: CounterOfferIn, session: SessionDep,
    who: Principal = Depends(require_roles("risk_officer")),
) -> dict[str, Any]:
    app = get_application(session, application_id, who)
    if app.decision_id is None:
        raise ApplicationState(app.status)
    counter_offer(session, app.decision_id, product=body.product, term=body.term, down_payment=body.down_payment,
                  note=body.note, reviewer_id=who.user_id)
    return application_json(app)


@router.get(
    "/applications/{application_id}/consents", response_model=RecordedConsents,
    summary="The consents recorded for an application",
)
def consents(
    application_id: EntityId, session: SessionDep,
    who: Principal = Depends(require_roles("risk_officer", "merchant_owner", "shopper")),
) -> dict[str, Any]:
    app = get_application(session, application_id, who)
    return {"consents": [
        {"kind": c.kind, "text_version": c.text_version, "text_sha256": c.text_sha256,
         "document_sha256": c.document_sha256, "agreed_at": c.agreed_at.isoformat(), "ip": c.ip, "device": c.device}
        for c in service.consents_of(session, app.id)
    ]}
