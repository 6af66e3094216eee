"""HTTP: channel callbacks (public, signature-verified), orders, refunds, auto-debit agreements,
reconciliation (staff), and — outside production — the gateway emulators mounted at /_emulator/alipay
and /_emulator/wechatpay of the same server. The cashier and demo pages are the web's (fenqi.web.payments)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from fenqi.identity.deps import Principal, require_roles
from fenqi.identity.service import audit
from fenqi.kit.bounds import Amount, EntityId
from fenqi.kit.db import Session
from fenqi.kit.errors import DomainError, InvalidInput, NotFound
from fenqi.kit.fastlane import Handler, LaneRequest
from fenqi.kit.idempotency import bind, remember_body
from fenqi.kit.log import log
from fenqi.kit.web import SessionDep, get_session
from fenqi.payments import autodebit, payables, polling, reconcile, refunds, service
from fenqi.payments.channels import ForgedCallback, get_channel
from fenqi.payments.errors import RetryLater
from fenqi.payments.inbox import process
from fenqi.payments.models import ReconciliationItem
from fenqi.payments.partner_facts import record_signature_failure
from fenqi.payments.payables import PAYERS, positive_fen
from fenqi.payments.schemas import (
    AgreementOut,
    AutoDebitBatch,
    ChannelFailure,
    OrderOut,
    PollOut,
    ReconciliationItemOut,
    ReconciliationItems,
    ReconciliationReport,
    RefundOut,
)
from fenqi.payments.settings import get_payment_settings

router = APIRouter(tags=["payments"])
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}  # kit.responses.ErrorBody, documented by every route
STAFF = ("finance",)


# -- emulators ---------------------------------------------------------------------------------


class LazyEmulator:
    """Builds the emulator app (and its keys) on the first request, not at import."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await emulator_app(self.channel)(scope, receive, send)


@lru_cache
def emulator_app(channel: str) -> ASGIApp:
    """One emulator per process: the demo server and anything in it share its trades."""
    # Imported here, not at the top: an emulator's code loads on its first request, never in production
    if channel == "alipay":
        from fenqi.payments.emulators.alipay import create_app
    else:
        from fenqi.payments.emulators.wechatpay import create_app
    return create_app()


def _mount_emulators() -> None:
    settings = get_payment_settings()
    if settings.env == "production":
        return
    if not settings.alipay_gateway:
        router.mount("/_emulator/alipay", LazyEmulator("alipay"))
    if not settings.wechatpay_gateway:
        router.mount("/_emulator/wechatpay", LazyEmulator("wechatpay"))


_mount_emulators()


# -- callbacks ---------------------------------------------------------------------------------


async def _callback(channel: str, request: Request, session: Session) -> Response:
    body = await request.body()
    headers = dict(request.headers)
    client = request.client.host if request.client else ""
    # Verification and the database work block: keep them off the event loop.
    return await run_in_threadpool(_handle_callback, channel, headers, body, client, session)


def _handle_callback(channel: str, headers: dict[str, str], body: bytes, client: str, session: Session) -> Response:
    adapter = get_channel(channel)
    try:
        notification = adapter.verify_notification(headers, body)
    except ForgedCallback:
        log.warning("payments.callback.forged", channel=channel, client=client, size=len(body))
        record_signature_failure(session, channel)
        session.commit()
        if channel == "alipay":
            return PlainTextResponse("fail", status_code=400)
        return JSONResponse({"code": "FAIL", "message": "签名验证失败"}, status_code=401)
    try:
        outcome = process(session, channel, notification, source="callback")
    except RetryLater:
        session.rollback()
        if channel == "alipay":
            return PlainTextResponse("fail", status_code=503)
        return JSONResponse({"code": "FAIL", "message": "稍后重试"}, status_code=503)
    # Commit before acknowledging: once the channel hears "success" it never sends the event again.
    session.commit()
    log.info("payments.callback", channel=channel, event_id=notification.event_id, outcome=outcome)
    if adapter.ack_status == 204:
        return Response(status_code=204)
    return PlainTextResponse(adapter.ack_body)


@router.post(
    "/api/v1/payments/callbacks/alipay", response_class=PlainTextResponse,
    summary="Alipay notifications (public, RSA2-verified)",
    responses={200: {"description": "`success`: the notification is recorded", "content": {"text/plain": {}}},
               400: {"description": "`fail` (text): the signature does not verify; the error body (JSON): a request "
                     "refused before it is read",
                     "content": {"text/plain": {}, "application/json": {"schema": ERROR_BODY}}},
               503: {"description": "`fail`: try again later", "content": {"text/plain": {}}}},
)
async def alipay_callback(request: Request, session: SessionDep) -> Response:
    return await _callback("alipay", request, session)


@router.post(
    "/api/v1/payments/callbacks/wechatpay", status_code=204, response_class=Response,
    summary="WeChat Pay notifications (public, verified)",
    responses={204: {"description": "The notification is recorded"},
               401: {"description": "The signature does not verify", "model": ChannelFailure},
               503: {"description": "Try again later", "model": ChannelFailure}},
)
async def wechatpay_callback(request: Request, session: SessionDep) -> Response:
    return await _callback("wechatpay", request, session)


async def _callback_lane(channel: str, lane: LaneRequest) -> Response:
    """A notification in the fast lane (fenqi.kit.fastlane): what the routes above do, without the
    framework's routing and dependency solving, the session opened and closed in the same trip to the
    thread pool as the verification and the database work."""
    request = lane.request
    headers = dict(request.headers)
    client = request.client.host if request.client else ""
    return await lane.with_session(get_session, lambda s: _handle_callback(channel, headers, lane.body, client, s))


async def _alipay_lane(lane: LaneRequest) -> Response:
    return await _callback_lane("alipay", lane)


async def _wechatpay_lane(lane: LaneRequest) -> Response:
    return await _callback_lane("wechatpay", lane)


fast_lane: dict[tuple[str, str], Handler] = {
    ("POST", "/api/v1/payments/callbacks/alipay"): _alipay_lane,
    ("POST", "/api/v1/payments/callbacks/wechatpay"): _wechatpay_lane,
}


# -- orders ------------------------------------------------------------------------------------


class OrderIn(BaseModel):
    purpose: str = Field(examples=["installment"])
    amount: Amount | None = Field(None, examples=["523.00"], description=(
        "optional: the loan or application defines the amount (next bill, payoff quote, down payment); "
        "a different figure is refused with 409 payment_amount_mismatch"))
    channel: str = Field(examples=["alipay"])
    subject: str = Field("", max_length=120)
    loan_id: EntityId | None = None
    application_id: EntityId | None = None
    scene: str = Field("page", description="page | h5 | qr (pay_url is then the QR code's content)")
    hb_fq_num: int | None = Field(None, ge=1, le=36, examples=[6], description=(
        "Alipay down payments only: pay with 花呗分期 in 3, 6 or 12 periods (who pays the platform's fee is "
        "the merchant's setting); anything else is refused with 400 invalid_platform_installments"))


@router.post("/api/v1/payments/orders", response_model=OrderOut, status_code=201,
             summary="Open a payment order; pay at pay_url",
             description="For a loan (installment: the next bill; payoff: today's payoff quote) or a signed "
                         "application's down payment, by its shopper, its merchant's staff or finance. 404 "
                         "`payee_not_found` for a loan or application that does not exist, 403 for someone "
                         "else's, 409 `nothing_to_pay` / `payment_amount_mismatch`.")
def create_order(body: OrderIn, session: SessionDep,
                 who: Principal = Depends(require_roles(*PAYERS))) -> dict[str, Any]:
    amount = positive_fen(body.amount, "amount") if body.amount is not None else None
    order = payables.open_order(session, who, purpose=body.purpose, channel=body.channel, amount_fen=amount,
                                loan_id=body.loan_id, application_id=body.application_id, subject=body.subject,
                                scene=body.scene, hb_fq_num=body.hb_fq_num)
    return service.order_json(order)


@router.get("/api/v1/payments/orders/{out_trade_no}", response_model=OrderOut, summary="A payment order and its status")
def get_order(out_trade_no: str, session: SessionDep,
              who: Principal = Depends(require_roles(*PAYERS))) -> dict[str, Any]:
    order = service.get_order(session, out_trade_no)
    payables.ensure_may_see(who, order, session)
    return service.order_json(order)


@router.post(
    "/api/v1/payments/orders/{out_trade_no}/poll", response_model=PollOut,
    summary="Ask the channel now (lost notification)",
)
def poll_order(out_trade_no: str, session: SessionDep,
               who: Principal = Depends(require_roles(*STAFF))) -> dict[str, Any]:
    order = service.get_order(session, out_trade_no, lock=True)
    outcome = polling.poll_order(session, order)
    return {"outcome": outcome, "order": service.order_json(order)}


# -- refunds -----------------------------------------------------------------------------------


class RefundIn(BaseModel):
    out_trade_no: str
    amount: Amount = Field(examples=["100.00"])
    reason: str = ""
    refund_ref: str | None = None


@router.post(
    "/api/v1/payments/refunds", response_model=RefundOut, status_code=201,
    summary="Refund (part of) a paid order, idempotently", dependencies=[Depends(remember_body)],
)
def create_refund(body: RefundIn, request: Request, session: SessionDep,
                  who: Principal = Depends(require_roles(*STAFF)),
                  idempotency_key: str | None = Header(None, max_length=100)) -> dict[str, Any]:
    # The key is the caller's and bound to this body (fenqi.kit.idempotency): two staff with the same key are
    # two requests. The refund is kept under its refund_ref, unique, so one request is never paid twice.
    keyed = bind(session, request, who.user_id, idempotency_key)
    ref = body.refund_ref or (f"api:{keyed}" if keyed else None)
    if not ref:
        raise InvalidInput.saying("请提供退款单号 refund_ref 或 Idempotency-Key 请求头",
                                  "refund_ref or an Idempotency-Key header is required")
    item = refunds.refund(session, out_trade_no=body.out_trade_no, amount_fen=positive_fen(body.amount, "amount"),
                          reason=body.reason, refund_ref=ref)
    audit(session, actor_user_id=who.user_id, action="payments.refund", subject=body.out_trade_no,
          detail=f"{body.amount} {item.status}")
    return refunds.refund_json(item, body.out_trade_no)


# -- auto-debit --------------------------------------------------------------------------------


class AgreementIn(BaseModel):
    loan_id: EntityId
    channel: str


@router.post(
    "/api/v1/payments/agreements", response_model=AgreementOut, status_code=201,
    summary="Start an auto-debit agreement (代扣签约)",
)
def create_agreement(body: AgreementIn, session: SessionDep,
                     who: Principal = Depends(require_roles(*PAYERS))) -> dict[str, Any]:
    payables.ensure_may_pay_loan(session, who, body.loan_id)
    agreement = autodebit.start_agreement(session, loan_id=body.loan_id, channel=body.channel)
    return _agreement_json(agreement)


@router.get(
    "/api/v1/payments/agreements/{external_no}", response_model=AgreementOut,
    summary="An agreement, refreshed from the channel",
)
def get_agreement(external_no: str, session: SessionDep,
                  who: Principal = Depends(require_roles(*PAYERS))) -> dict[str, Any]:
    agreement = autodebit.get_agreement(session, external_no)
    try:
        payables.ensure_may_pay_loan(session, who, agreement.loan_id)
    except DomainError:
        raise NotFound.saying(f"代扣协议 {external_no}", f"agreement {external_no}") from None
    return _agreement_json(autodebit.refresh_agreement(session, agreement))


def _agreement_json(a: Any) -> dict[str, Any]:
    return {"external_no": a.external_no, "channel": a.channel, "loan_id": a.loan_id, "status": a.status,
            "agreement_no": a.agreement_no or None, "sign_url": a.sign_url}


class BatchIn(BaseModel):
    date: str | None = None


@router.post(
    "/api/v1/payments/auto-debit/run", response_model=AutoDebitBatch,
    summary="Run the auto-debit batch for a business date",
)
def run_auto_debit(body: BatchIn, who: Principal = Depends(require_roles(*STAFF))) -> dict[str, Any]:
    on = _date(body.date) if body.date else None
    return autodebit.run_batch(on).to_json()


# -- reconciliation ----------------------------------------------------------------------------


class ReconcileIn(BaseModel):
    channel: str
    date: str


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput.saying(f"日期 {raw!r} 无效（YYYY-MM-DD）", f"date {raw!r}: YYYY-MM-DD") from None


@router.post(
    "/api/v1/payments/reconciliations", response_model=ReconciliationReport, status_code=201,
    summary="Reconcile a channel's statement",
)
def run_reconciliation(body: ReconcileIn, session: SessionDep,
                       who: Principal = Depends(require_roles(*STAFF))) -> dict[str, Any]:
    report = reconcile.reconcile(session, body.channel, _date(body.date), user_id=who.user_id)
    return reconcile.report_json(report)


@router.get(
    "/api/v1/payments/reconciliations/{run_id}/items", response_model=ReconciliationItems,
    summary="Discrepancies of a run",
)
def run_items(run_id: EntityId, session: SessionDep,
              who: Principal = Depends(require_roles(*STAFF))) -> dict[str, Any]:
    from sqlalchemy import select

    items = session.scalars(select(ReconciliationItem).where(ReconciliationItem.run_id == run_id)
                            .order_by(ReconciliationItem.id))
    return {"run_id": run_id, "items": [reconcile.item_json(i) for i in items]}


class DecisionIn(BaseModel):
    decision: str = Field(examples=["approve"])
    note: str = ""
    confirm: bool = Field(False, description="approving needs it (409 confirmation_required says what it will do)")


@router.post("/api/v1/payments/reconciliation-items/{item_id}/decision", response_model=ReconciliationItemOut,
             summary="Approve or reject an action",
             description="Approving needs `confirm: true` and a finance user other than whoever ran the "
                         "reconciliation (403 `maker_checker`).")
def decide(item_id: EntityId, body: DecisionIn, session: SessionDep,
           who: Principal = Depends(require_roles(*STAFF))) -> dict[str, Any]:
    if body.decision not in ("approve", "reject"):
        raise InvalidInput.saying("处理决定须为 approve（批准）或 reject（驳回）", "decision: approve | reject")
    item = reconcile.decide(session, item_id, approve=body.decision == "approve", user_id=who.user_id, note=body.note,
                            confirm=body.confirm)
    audit(session, actor_user_id=who.user_id, action=f"payments.reconciliation.{body.decision}",
          subject=f"item {item_id}", detail=item.action)
    return reconcile.item_json(item)
