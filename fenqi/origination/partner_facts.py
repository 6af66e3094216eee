"""A port for the partner scorecard and pilots: the applications routed to funders over a window (DTOs).

An application counts for the funder it was routed to (approved, then placed by funding's routing);
it is `signed` once the shopper signed the contract (the funder then disburses). The decision time
comes from risk (see fenqi.risk.service.decision_times)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.origination.models import Application


@dataclass(frozen=True, slots=True)
class RoutedApplication:
    id: int
    funder_code: str
    business_date: date
    status: str
    signed: bool
    credit_limit_fen: int
    financed_fen: int
    installment_fen: int
    term: int
    loan_id: int | None
    decision_id: int | None
    submitted_at: datetime


def routed_applications(session: Session, start: date, end: date) -> list[RoutedApplication]:
    """Applications routed to a funder with business dates in [start, end]."""
    rows = session.scalars(select(Application).where(
        Application.funder_code.is_not(None), Application.business_date >= start, Application.business_date <= end,
    ).order_by(Application.id)).all()
    return [RoutedApplication(
        id=a.id, funder_code=a.funder_code or "", business_date=a.business_date, status=a.status,
        signed=a.status == "signed", credit_limit_fen=a.credit_limit_fen, financed_fen=a.financed_fen,
        installment_fen=a.installment_fen, term=a.term, loan_id=a.loan_id, decision_id=a.decision_id,
        submitted_at=a.created_at,
    ) for a in rows]


def loan_funders(session: Session, loan_ids: list[int]) -> dict[int, str]:
    """Loan id → the funder its application was routed to."""
    ids = sorted(set(loan_ids))
    found: dict[int, str] = {}
    for chunk in range(0, len(ids), 500):
        rows = session.execute(select(Application.loan_id, Application.funder_code).where(
            Application.loan_id.in_(ids[chunk:chunk + 500]), Application.funder_code.is_not(None))).all()
        found.update({loan: code for loan, code in rows if loan is not None and code is not None})
    return found
