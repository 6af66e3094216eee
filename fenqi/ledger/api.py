"""HTTP for finance: the trial balance and the ledger check."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query

from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.web import SessionDep
from fenqi.ledger.check import check_books
from fenqi.ledger.schemas import BooksCheck, TrialBalance
from fenqi.ledger.views import trial_balance_json

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])
finance = require_roles("finance")


@router.get(
    "/trial-balance", response_model=TrialBalance,
    summary="Trial balance (试算平衡表): every account's debits, credits and balance",
)
def trial_balance(
    session: SessionDep,
    as_of: date | None = Query(None, description="Up to this business date (YYYY-MM-DD); default all"),
    _: Principal = Depends(finance),
) -> dict[str, Any]:
    return trial_balance_json(session, as_of)


@router.get(
    "/check", response_model=BooksCheck, response_model_exclude_unset=True,
    summary="The ledger check: balanced entries, zero net, loans equal to the ledger",
)
def check(session: SessionDep, _: Principal = Depends(finance)) -> dict[str, Any]:
    return check_books(session)
