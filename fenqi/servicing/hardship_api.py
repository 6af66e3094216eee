"""HTTP for staff: hardship arrangements (纾困) of a loan — list, propose, approve, reject.

A collector, risk officer or finance user proposes; a risk officer or finance user other than the
proposer approves or rejects (maker-checker, enforced by the service whatever the roles).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import Amount, EntityId
from fenqi.kit.db import Session
from fenqi.kit.errors import DomainError, NotFound
from fenqi.kit.money import fmt_rate, to_fen
from fenqi.kit.schemas import Day, Money, Out, Rate
from fenqi.kit.web import SessionDep
from fenqi.servicing import hardship
from fenqi.servicing.hardship_plans import MAX_HOLIDAY_MONTHS, MAX_TERM, PlanRow
from fenqi.servicing.loans import get_loan, installments
from fenqi.servicing.models import HardshipArrangement, HardshipKind, HardshipStatus, InstallmentStatus
from fenqi.servicing.views import y

# Mounted under /api/v1/loans by fenqi.servicing.api.
router = APIRouter(prefix="/{loan_id}/hardship", tags=["hardship"])
proposers = require_roles("collector", "risk_officer", "finance")
approvers = require_roles("risk_officer", "finance")


class ScheduleRowOut(Out):
    period: int
    due_date: Day
    principal: Money
    interest: Money = Field(description="Interest and any rescheduled interest (利息)")
    fee: Money
    total: Money
    holiday: bool = Field(description="A holiday period: nothing to pay (延期)")


class ArrangementOut(Out):
    id: int
    loan_id: int
    kind: Literal["holiday", "reage", "restructure", "settlement"]
    status: Literal["proposed", "approved", "rejected", "settled", "expired"]
    months: int = Field(description="Holiday: installments deferred")
    new_term: int = Field(description="Restructure: periods of the new schedule")
    settlement_amount: Money = Field(description="Settlement: the amount agreed (和解金额)")
    valid_until: Day | None
    paid: Money = Field(description="Settlement: paid towards the amount agreed")
    discount: Money = Field(description="Settlement: waived when paid (减免)")
    reason: str
    requested_by: int
    decided_by: int | None
    decided_on: Day | None
    apr: Rate | None = Field(description="APR of the new schedule (年化利率)")
    schedule: list[ScheduleRowOut] = Field(description="The new schedule: proposed (preview) or in force")
    schedule_principal: Money
    schedule_cost: Money = Field(description="Interest and fee of the new schedule, disclosed with it")


class ArrangementList(Out):
    items: list[ArrangementOut]


class ProposalIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"example": {"kind": "holiday", "months": 2, "reason": "失业"}}
    )

    kind: Literal["holiday", "reage", "restructure", "settlement"]
    months: int = Field(0, ge=0, le=MAX_HOLIDAY_MONTHS, description="Holiday: installments to defer")
    new_term: int = Field(0, ge=0, le=MAX_TERM, description="Restructure: periods of the new schedule")
    settlement_amount: Amount | None = Field(None, description="Settlement: yuan, at most two decimals")
    valid_until: date | None = Field(None, description="Settlement: the last day to pay (default: 30 days)")
    reason: str = Field("", max_length=200)
    request_id: EntityId | None = Field(None, description="The hardship request in collections, if any")


def _row(r: PlanRow) -> dict[str, Any]:
    return {
        "period": r.period, "due_date": r.due_date.isoformat(), "principal": y(r.principal),
        "interest": y(r.interest), "fee": y(r.fee), "total": y(r.total), "holiday": r.holiday,
    }


def schedule_rows(session: Session, arr: HardshipArrangement) -> list[PlanRow]:
    """The schedule an arrangement shows: its preview while proposed, the loan's open schedule once applied."""
    loan = get_loan(session, arr.loan_id)
    if arr.kind == HardshipKind.SETTLEMENT:
        return []
    if arr.status == HardshipStatus.PROPOSED and loan.status in ("active", "overdue"):
        try:
            return list(hardship.preview(session, loan, arr).rows)
        except DomainError:
            return []  # no longer possible: approving it will say why
    if arr.status != HardshipStatus.APPROVED:
        return []
    return [
        PlanRow(
            r.period, r.due_date, r.principal_fen - r.paid_principal_fen, r.interest_fen - r.paid_interest_fen,
            r.fee_fen - r.paid_fee_fen, holiday=r.principal_fen + r.interest_fen + r.fee_fen == 0,
        )
        for r in installments(session, loan.id)
        if r.status in (InstallmentStatus.PENDING, InstallmentStatus.DUE)
    ]


def arrangement_json(session: Session, arr: HardshipArrangement) -> dict[str, Any]:
    rows = schedule_rows(session, arr)
    return {
        "id": arr.id, "loan_id": arr.loan_id, "kind": arr.kind, "status": arr.status, "months": arr.months,
        "new_term": arr.new_term, "settlement_amount": y(arr.settlement_fen),
        "valid_until": arr.valid_until.isoformat() if arr.valid_until else None,
        "paid": y(arr.paid_fen), "discount": y(arr.discount_fen), "reason": arr.reason,
        "requested_by": arr.requested_by, "decided_by": arr.decided_by,
        "decided_on": arr.decided_on.isoformat() if arr.decided_on else None,
        "apr": fmt_rate(arr.apr) if arr.apr is not None else None,
        "schedule": [_row(r) for r in rows],
        "schedule_principal": y(sum(r.principal for r in rows)),
        "schedule_cost": y(sum(r.interest + r.fee for r in rows)),
    }


def _of_loan(session: Session, loan_id: int, arrangement_id: int) -> HardshipArrangement:
    arr = hardship.get_arrangement(session, arrangement_id)
    if arr.loan_id != loan_id:
        raise NotFound.saying(f"贷款 {loan_id} 的纾困方案 {arrangement_id}",
                              f"hardship arrangement {arrangement_id} of loan {loan_id}")
    return arr


@router.get("", response_model=ArrangementList, summary="A loan's hardship arrangements (纾困方案)")
def list_arrangements(
    loan_id: EntityId, session: SessionDep, _: Principal = Depends(proposers)
) -> dict[str, Any]:
    get_loan(session, loan_id)
    return {"items": [arrangement_json(session, a) for a in hardship.arrangements(session, loan_id=loan_id)]}


@router.post(
    "", response_model=ArrangementOut, status_code=201,
    summary="Propose a hardship arrangement: holiday, re-ageing, restructure or settlement (needs a second person)",
)
def propose(
    loan_id: EntityId, body: ProposalIn, session: SessionDep,
    who: Principal = Depends(proposers),
) -> dict[str, Any]:
    arr = hardship.propose(
        session, loan_id=loan_id, kind=body.kind, requested_by=who.user_id, months=body.months,
        new_term=body.new_term,
        settlement_fen=to_fen(body.settlement_amount) if body.settlement_amount is not None else 0,
        valid_until=body.valid_until, reason=body.reason, request_id=body.request_id,
    )
    return arrangement_json(session, arr)


@router.post(
    "/{arrangement_id}/approve", response_model=ArrangementOut,
    summary="Approve and apply a proposed arrangement (not by its proposer)",
)
def approve(
    loan_id: EntityId, arrangement_id: EntityId, session: SessionDep,
    who: Principal = Depends(approvers),
) -> dict[str, Any]:
    _of_loan(session, loan_id, arrangement_id)
    return arrangement_json(session, hardship.approve(session, arrangement_id, user_id=who.user_id))


@router.post(
    "/{arrangement_id}/reject", response_model=ArrangementOut,
    summary="Reject a proposed arrangement (not by its proposer)",
)
def reject(
    loan_id: EntityId, arrangement_id: EntityId, session: SessionDep,
    who: Principal = Depends(approvers),
) -> dict[str, Any]:
    _of_loan(session, loan_id, arrangement_id)
    return arrangement_json(session, hardship.reject(session, arrangement_id, user_id=who.user_id))
