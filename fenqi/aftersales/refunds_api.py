"""HTTP for finance: a return's refund waiting for a person (需人工处理) is settled outside the channel, sent
to the channel again, or cancelled (fenqi.aftersales.manual_refunds). Each needs an `Idempotency-Key`: the
same key gets the same answer again and changes nothing; the refund's own state refuses a second action."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from fenqi.aftersales import manual_refunds
from fenqi.aftersales.idempotency import KeyHeader, idempotent
from fenqi.aftersales.schemas import CaseRefundOut
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.money import fmt_yuan, from_fen
from fenqi.kit.web import SessionDep

router = APIRouter(prefix="/refunds")  # under /api/v1/aftersales (fenqi.aftersales.api)
finance = require_roles("finance")


class SettleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1, max_length=64, description="The bank transfer's reference (凭证号)")


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=120, description="Why the refund is not made")


class ManualRefundOut(CaseRefundOut):
    case_id: int


def refund_json(item: Any) -> dict[str, Any]:
    return {"id": item.id, "case_id": item.case_id, "out_trade_no": item.out_trade_no, "channel": item.channel,
            "purpose": item.purpose, "amount": fmt_yuan(from_fen(item.amount_fen)), "status": item.status,
            "attempt": item.attempt, "out_refund_no": item.out_refund_no or None,
            "last_error": item.last_error or None}


@router.get("", response_model=list[ManualRefundOut], summary="Refunds waiting for finance (需人工处理)")
def waiting(session: SessionDep, _: Principal = Depends(finance)) -> list[dict[str, Any]]:
    return [refund_json(item) for item, _case in manual_refunds.waiting(session)]


@router.post("/{refund_id}/settle", response_model=ManualRefundOut,
             summary="Paid back outside the channel (bank transfer): booked, the refund done")
def settle(refund_id: EntityId, body: SettleIn, request: Request, *, session: SessionDep,
           who: Principal = Depends(finance), key: str | None = KeyHeader) -> dict[str, Any]:
    return idempotent(session, request, who, key, lambda: refund_json(manual_refunds.settle(
        session, refund_id, reference=body.reference, actor_user_id=who.user_id)))


@router.post("/{refund_id}/retry", response_model=ManualRefundOut, summary="Send the refund to the channel again")
def retry(refund_id: EntityId, request: Request, *, session: SessionDep,
          who: Principal = Depends(finance), key: str | None = KeyHeader) -> dict[str, Any]:
    return idempotent(session, request, who, key, lambda: refund_json(manual_refunds.retry(
        session, refund_id, actor_user_id=who.user_id)))


@router.post("/{refund_id}/cancel", response_model=ManualRefundOut,
             summary="Do not make the refund (with a reason); nothing was paid or reserved for it")
def cancel(refund_id: EntityId, body: CancelIn, request: Request, *, session: SessionDep,
           who: Principal = Depends(finance), key: str | None = KeyHeader) -> dict[str, Any]:
    return idempotent(session, request, who, key, lambda: refund_json(manual_refunds.cancel(
        session, refund_id, reason=body.reason, actor_user_id=who.user_id)))
