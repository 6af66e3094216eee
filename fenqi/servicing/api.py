"""HTTP for staff: a loan with its schedule and journal, a payoff quote, a repayment (idempotent)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import Amount, EntityId
from fenqi.kit.errors import InvalidInput
from fenqi.kit.idempotency import bind, remember_body
from fenqi.kit.money import to_fen
from fenqi.kit.web import SessionDep
from fenqi.ledger import loan_journal
from fenqi.ledger.views import entry_json
from fenqi.servicing import service
from fenqi.servicing.hardship_api import router as hardship_router
from fenqi.servicing.schemas import LoanDetail, PayoffQuoteOut, RepaymentOut
from fenqi.servicing.views import installment_json, loan_json

router = APIRouter(prefix="/api/v1/loans", tags=["servicing"])
staff = require_roles("finance", "collector", "risk_officer")
finance = require_roles("finance")


@router.get("/{loan_id}", response_model=LoanDetail, summary="A loan: figures, schedule and journal entries")
def loan_detail(
    loan_id: EntityId,
    entries: int = Query(200, ge=0, le=5000, description="How many of the newest journal entries to include"),
    *, session: SessionDep,
    _: Principal = Depends(staff),
) -> dict[str, Any]:
    loan = service.get_loan(session, loan_id)
    rows = service.installments(session, loan_id)
    journal = loan_journal(session, loan_id, newest=entries)
    return {
        "loan": loan_json(loan),
        "schedule": [installment_json(r) for r in rows],
        "entries": [entry_json(e, lines) for e, lines in journal],
    }


@router.get(
    "/{loan_id}/payoff", response_model=PayoffQuoteOut, summary="Payoff quote (提前结清) for today or a later date",
)
def payoff(
    loan_id: EntityId,
    on: date | None = Query(None, alias="date", description="YYYY-MM-DD; default the business date"),
    *, session: SessionDep,
    _: Principal = Depends(staff),
) -> dict[str, Any]:
    return service.payoff_quote(session, loan_id, on).to_json()


class RepaymentIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"amount": "444.17", "channel": "bank", "purpose": "installment"}}
    )

    amount: Amount = Field(description="Yuan, at most two decimals")
    channel: Literal["alipay", "wechatpay", "bank"] = "bank"
    purpose: Literal["installment", "prepayment", "payoff"] = "installment"
    prepayment_choice: Literal["shorter_term", "lower_installment"] = "shorter_term"
    payment_ref: str | None = Field(None, max_length=80, description="The payment's id; or send Idempotency-Key")


@router.post(
    "/{loan_id}/repayments", response_model=RepaymentOut, dependencies=[Depends(remember_body)],
    summary="Apply a repayment (idempotent by Idempotency-Key / payment_ref)",
    responses={200: {"description": "A retry: the repayment already applied under this reference"},
               201: {"description": "Applied", "model": RepaymentOut}},
)
def repay(
    loan_id: EntityId,
    body: RepaymentIn,
    request: Request,
    response: Response,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=72),
    *, session: SessionDep,
    who: Principal = Depends(finance),
) -> dict[str, Any]:
    # The key is the caller's for this loan's path and bound to this body (fenqi.kit.idempotency); the
    # repayment is kept under its reference, whose uniqueness keeps a payment from being applied twice.
    keyed = bind(session, request, who.user_id, idempotency_key)
    ref = body.payment_ref or (f"api:{keyed}" if keyed else None)
    if ref is None:
        raise InvalidInput.saying("请提供 Idempotency-Key 请求头或付款单号 payment_ref",
                                  "send an Idempotency-Key header or a payment_ref")
    amount = body.amount
    if amount <= 0:
        raise InvalidInput.saying("金额须为正数", "amount must be positive")
    result = service.apply_repayment(
        session,
        loan_id=loan_id,
        amount_fen=to_fen(amount),
        payment_ref=ref,
        channel=body.channel,
        purpose=body.purpose,
        prepayment_choice=body.prepayment_choice,
    )
    response.status_code = 200 if result.replayed else 201
    return result.to_json()


# Hardship arrangements of a loan (/api/v1/loans/{loan_id}/hardship...).
router.include_router(hardship_router)
