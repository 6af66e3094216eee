"""A port for the partner scorecard: what funders cost the merchants, from disbursements (a DTO)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.funding.models import Disbursement, Funder


@dataclass(frozen=True, slots=True)
class FunderCost:
    funder_code: str
    disbursements: int
    financed_fen: int
    merchant_fee_fen: int
    subsidy_fen: int


def funder_costs(session: Session, start: date, end: date) -> dict[str, FunderCost]:
    """Per funder, disbursements with business dates in [start, end] (unwound ones too: the fee was charged)."""
    rows = session.execute(
        select(Funder.code, func.count(Disbursement.id), func.sum(Disbursement.financed_fen),
               func.sum(Disbursement.merchant_fee_fen), func.sum(Disbursement.subsidy_fen))
        .join(Funder, Funder.id == Disbursement.funder_id)
        .where(Disbursement.business_date >= start, Disbursement.business_date <= end, Funder.training.is_(False))
        .group_by(Funder.code)
    ).all()
    return {code: FunderCost(code, int(n), int(fin or 0), int(fee or 0), int(sub or 0))
            for code, n, fin, fee, sub in rows}
