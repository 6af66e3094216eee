"""The shopper's overdue page (the pay link of a collector's SMS lands here): what is owed today and why
(each overdue installment with its days past due, the penalty), pay now, and a hardship request form
(recorded with status `requested`; servicing's hardship operations decide it) with each request's outcome."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.collections.hardship_requests import HARDSHIP_KINDS, outcomes, request_hardship
from fenqi.collections.status import days_overdue
from fenqi.identity.deps import Principal
from fenqi.kit.bounds import EntityId
from fenqi.kit.errors import DomainError
from fenqi.kit.web import SessionDep, request_language
from fenqi.servicing.service import amount_due, installments, next_bill, unpaid
from fenqi.web.errors import page_error_text
from fenqi.web.render import render
from fenqi.web.shopper import cashier
from fenqi.web.shopper.common import Posted, Shopper, attempt, own_loan, yuan

router = APIRouter()
KIND_LABELS = {"holiday": ("延期还款（暂缓几期）", "Payment holiday"),
               "restructure": ("延长分期（降低月供）", "A longer term"),
               "settlement": ("一次性和解结清", "A settlement")}


def _page(request: Request, session: Session, who: Principal, loan_id: int, *, error: str = "", done: bool = False,
          status_code: int = 200) -> HTMLResponse:
    loan, app = own_loan(session, loan_id, who)
    routing = cashier.routed(session, app.shopper_user_id, app.id)
    rows = installments(session, loan.id)
    overdue_rows = [{"period": r.period, "due_date": r.due_date.isoformat(), "unpaid": yuan(unpaid(r)),
                     "days": days_overdue(r.status, r.due_date, loan.cob_date)}
                    for r in rows if r.status == "due"]
    lang = request_language(request)
    return render(request, "shopper/overdue.html", {
        "loan": loan, "owed": yuan(amount_due(session, loan.id)), "bill": next_bill(loan, rows),
        "rows": overdue_rows, "penalty": yuan(loan.penalty_receivable_fen),
        "channels": cashier.offered(routing), "routing": cashier.note(routing),
        "kinds": [(k, KIND_LABELS[k][0 if lang == "zh" else 1]) for k in HARDSHIP_KINDS],
        "requests": outcomes(session, loan.id), "error": error, "done": done,
        "kind_labels": {k: v[0 if lang == "zh" else 1] for k, v in KIND_LABELS.items()},
    }, status_code=status_code)


@router.get("/shop/loans/{loan_id}/overdue", response_class=HTMLResponse)
def overdue_page(loan_id: EntityId, request: Request, done: str = "", *, session: SessionDep,
                 who: Principal = Shopper) -> HTMLResponse:
    return _page(request, session, who, loan_id, done=done == "1")


@router.post("/shop/loans/{loan_id}/hardship")
def hardship(loan_id: EntityId, request: Request, form: dict[str, str] = Posted,
             *, session: SessionDep, who: Principal = Shopper) -> Response:
    own_loan(session, loan_id, who)
    try:
        with attempt(session):
            request_hardship(session, loan_id=loan_id, user_id=who.user_id, kind=form.get("kind", ""),
                             reason=form.get("reason", ""))
    except DomainError as exc:
        return _page(request, session, who, loan_id, error=page_error_text(request, exc),
                     status_code=exc.status)
    return RedirectResponse(f"/shop/loans/{loan_id}/overdue?done=1#hardship", 303)
