"""HTTP for collections staff: the case queue and a case with its promises. Collectors see only their
own cases (another's answers 404); the collections lead and admin see all."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from fenqi.collections import cases
from fenqi.collections.cases import BUCKET_ORDER, Scope
from fenqi.collections.models_cases import CollectionCase, PromiseToPay
from fenqi.collections.promises import promises_of
from fenqi.collections.schemas import CaseDetail, CaseList
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.money import fmt_yuan, from_fen
from fenqi.kit.web import SessionDep
from fenqi.servicing.service import amount_due

router = APIRouter(prefix="/api/v1/collections", tags=["collections"])
staff = require_roles("collector", "collection_lead")
LEADS = ("collection_lead", "admin")


def _y(fen: int) -> str:
    return fmt_yuan(from_fen(fen))


def case_json(c: CollectionCase) -> dict[str, Any]:
    return {
        "id": c.id, "loan_id": c.loan_id, "status": c.status, "opened_on": c.opened_on.isoformat(),
        "closed_on": c.closed_on.isoformat() if c.closed_on else None, "close_reason": c.close_reason,
        "dpd": c.dpd, "bucket": c.bucket, "overdue": _y(c.overdue_fen), "outstanding": _y(c.outstanding_fen),
        "score": c.score, "broken_promises": c.broken_promises, "assigned_user_id": c.assigned_user_id,
        "assigned_at": c.assigned_at.isoformat() if c.assigned_at else None,
    }


def promise_json(p: PromiseToPay) -> dict[str, Any]:
    return {"id": p.id, "amount": _y(p.amount_fen), "made_on": p.made_on.isoformat(), "due_on": p.due_on.isoformat(),
            "status": p.status, "decided_on": p.decided_on.isoformat() if p.decided_on else None,
            "paid": _y(p.paid_fen)}


def _scope(who: Principal) -> Scope:
    return Scope(who.user_id, who.role in LEADS)


@router.get("/cases", response_model=CaseList, summary="The case queue (催收案件), in working order")
def case_queue(
    bucket: str = Query("", description="M1, M2, M3 or M4+; empty for all", max_length=4),
    unassigned: bool = Query(False, description="Only cases no collector holds (lead and admin)"),
    status: str = Query("open", pattern="^(open|closed)$"),
    limit: int = Query(200, ge=1, le=1000),
    *, session: SessionDep,
    who: Principal = Depends(staff),
) -> dict[str, Any]:
    if bucket and bucket not in BUCKET_ORDER:
        bucket = "?"  # refused by the service with a clear message
    rows = cases.queue(session, _scope(who), bucket=bucket, unassigned=unassigned, status=status, limit=limit)
    return {"cases": [case_json(c) for c in rows]}


@router.get("/cases/{case_id}", response_model=CaseDetail, summary="A case, what is owed today and its promises")
def case_detail(case_id: EntityId, session: SessionDep,
                who: Principal = Depends(staff)) -> dict[str, Any]:
    c = cases.get_case(session, case_id, _scope(who))
    return {"case": case_json(c), "owed_today": _y(amount_due(session, c.loan_id)),
            "promises": [promise_json(p) for p in promises_of(session, c.id)]}
