"""Operations console: loan search (personal data masked), loan detail (schedule, ledger entries,
payments, notes), the audited reveal of a full ID number, and the overdue list by bucket."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.analytics.service import BUCKETS, delinquency_buckets
from fenqi.catalog.service import sku_name
from fenqi.collections.contacts import contacts_of, log_contact
from fenqi.collections.hardship_requests import open_requests
from fenqi.identity.deps import Principal, require_roles
from fenqi.identity.service import audit
from fenqi.kit.bounds import MAX_ID, EntityId
from fenqi.kit.crypto import blind_index, decrypt, mask_card, mask_id_number, mask_name, mask_phone
from fenqi.kit.errors import InvalidInput, NotFound
from fenqi.kit.web import SessionDep, request_language
from fenqi.ledger import loan_journal
from fenqi.origination.lookups import applications_of_loans, loan_ids_where
from fenqi.payments.service import loan_orders
from fenqi.risk.service import get_decision
from fenqi.servicing.hardship import arrangements
from fenqi.servicing.service import LoanStatus, find_loan, installments, repayments
from fenqi.servicing.service import search_loans as find_loans
from fenqi.web.console.hardship import arrangement_view
from fenqi.web.errors import page_error_text
from fenqi.web.render import render

if TYPE_CHECKING:  # loans and applications come from servicing's and origination's services
    from fenqi.origination.models import Application
    from fenqi.servicing.models import Loan

router = APIRouter(prefix="/ops", include_in_schema=False)
# Who may look at loans, and who may see a full ID number (an explicit, audited action; admin passes too).
# The collections lead reads loans (search, detail, the overdue list) to oversee the collectors' cases, and
# changes nothing here: no notes, no reveal, no hardship proposals.
LOAN_VIEWERS = ("risk_officer", "collector", "finance")
LOAN_READERS = (*LOAN_VIEWERS, "collection_lead")
REVEALERS = ("risk_officer",)
viewers = require_roles(*LOAN_VIEWERS)
readers = require_roles(*LOAN_READERS)
_RIC = re.compile(r"^\d{17}[\dXx]$")
_MOBILE = re.compile(r"^1\d{10}$")


@dataclass(frozen=True, slots=True)
class LoanRow:
    loan: Loan
    app: Application | None

    @property
    def name(self) -> str:
        return mask_name(decrypt(self.app.name_enc)) if self.app else "—"

    @property
    def phone(self) -> str:
        return mask_phone(decrypt(self.app.phone_enc)) if self.app else "—"

    @property
    def id_number(self) -> str:
        return mask_id_number(decrypt(self.app.id_number_enc)) if self.app else "—"


def search_loans(session: Session, *, q: str = "", status: str = "", bucket: str = "", limit: int = 100
                 ) -> list[LoanRow]:
    """By loan or application number, full mobile or ID number (blind index; never by partial personal data).
    A training store's practice loans are not listed."""
    ids: set[int] | None = None
    q = q.strip().lstrip("#")
    if q:
        if _RIC.match(q):
            ids = loan_ids_where(session, id_hash=blind_index(q.upper()))
        elif _MOBILE.match(q):
            ids = loan_ids_where(session, phone_hash=blind_index(q))
        elif q.isascii() and q.isdigit() and len(q) <= 19 and 1 <= int(q) <= MAX_ID:
            # A number beyond any id matches nothing; the database would refuse it (SQLite: an overflow).
            ids = {int(q)} | loan_ids_where(session, application_id=int(q))
        else:
            raise InvalidInput("q", zh="请输入贷款号、申请号、手机号或身份证号",
                               en="Enter a loan or application no., a mobile or ID no.")
    loans = find_loans(session, ids=ids, status=status, bucket=bucket, limit=limit)
    apps = applications_of_loans(session, (loan.id for loan in loans))
    return [LoanRow(loan, apps.get(loan.id)) for loan in loans]


def loan_row(session: Session, loan_id: int) -> LoanRow:
    loan = find_loan(session, loan_id)
    if loan is None:
        raise NotFound.saying(f"贷款 {loan_id}", f"loan {loan_id}")
    return LoanRow(loan, applications_of_loans(session, [loan_id]).get(loan_id))


def _loans_view(request: Request, session: Session, who: Principal, q: str, status: str, bucket: str
                ) -> HTMLResponse:

    error, rows = "", []
    try:
        rows = search_loans(session, q=q, status=status, bucket=bucket)
    except InvalidInput as exc:
        error = page_error_text(request, exc)
    # A mobile or ID number typed in is personal data: never echoed back in full.
    shown = q if not (_RIC.match(q.strip()) or _MOBILE.match(q.strip())) else ""
    return render(request, "ops/loans.html", {
        "rows": rows, "q": shown, "status": status, "bucket": bucket, "error": error, "who": who,
        "statuses": (LoanStatus.ACTIVE, LoanStatus.OVERDUE, LoanStatus.PAID_OFF, LoanStatus.CANCELLED,
                     LoanStatus.WRITTEN_OFF), "buckets": BUCKETS,
    }, status_code=400 if error else 200)


@router.get("/loans", response_class=HTMLResponse)
def loans_page(
    request: Request, status: str = "", bucket: str = "", who: Principal = Depends(readers),
    *, session: SessionDep,
) -> HTMLResponse:
    return _loans_view(request, session, who, "", status, bucket)


@router.post("/loans", response_class=HTMLResponse)
def search_page(
    request: Request, q: str = Form(""), status: str = Form(""), bucket: str = Form(""),
    who: Principal = Depends(readers), *, session: SessionDep,
) -> HTMLResponse:
    """Searching is a POST: a mobile or ID number must not end up in URLs, browser history or access logs."""
    return _loans_view(request, session, who, q, status, bucket)


def _detail(request: Request, session: Session, loan_id: int, who: Principal, revealed: str = "") -> HTMLResponse:
    row = loan_row(session, loan_id)
    orders = loan_orders(session, loan_id, limit=100)
    paid = repayments(session, loan_id)
    notes = contacts_of(session, loan_id)
    review_note = ""
    if row.app is not None and row.app.decision_id:
        review_note = get_decision(session, row.app.decision_id).review_note
    card = mask_card(decrypt(row.app.bank_card_enc)) if row.app else "—"
    return render(request, "ops/loan.html", {
        "r": row, "loan": row.loan, "app": row.app,
        "phone": sku_name(session, row.app.sku_code, request_language(request)) if row.app else "",
        "schedule": installments(session, loan_id),
        "entries": loan_journal(session, loan_id), "orders": orders, "repayments": paid,
        "notes": list(notes), "review_note": review_note, "card": card, "revealed": revealed, "who": who,
        "may_reveal": who.role in (*REVEALERS, "admin"), "may_note": who.role in (*LOAN_VIEWERS, "admin"),
        "hardship": _hardship(request, session, loan_id), "hardship_requests": open_requests(session, loan_id),
    })


def _hardship(request: Request, session: Session, loan_id: int) -> list[dict[str, Any]]:
    lang = request_language(request)
    return [arrangement_view(session, a, lang) for a in arrangements(session, loan_id=loan_id)]


@router.get("/loans/{loan_id}", response_class=HTMLResponse)
def loan_page(request: Request, loan_id: EntityId, who: Principal = Depends(readers),
              *, session: SessionDep) -> HTMLResponse:
    return _detail(request, session, loan_id, who)


@router.post("/loans/{loan_id}/reveal", response_class=HTMLResponse)
def reveal_id_number(
    request: Request, loan_id: EntityId, reason: str = Form(""), who: Principal = Depends(require_roles(*REVEALERS)),
    *, session: SessionDep,
) -> HTMLResponse:
    """Show the full ID number once, on this response only; the access is written to the audit log."""
    row = loan_row(session, loan_id)
    if row.app is None:
        raise NotFound.saying(f"贷款 {loan_id} 的申请", f"application of loan {loan_id}")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason", zh="请填写查看原因", en="Give a reason")
    audit(session, actor_user_id=who.user_id, action="id_number.revealed", subject=f"loan:{loan_id}",
          detail=reason[:200])
    return _detail(request, session, loan_id, who, revealed=decrypt(row.app.id_number_enc))


@router.post("/loans/{loan_id}/notes")
def add_note(
    loan_id: EntityId, body: str = Form(""), who: Principal = Depends(viewers), *, session: SessionDep,
) -> Response:
    loan_row(session, loan_id)
    log_contact(session, who, loan_id, kind="note", body=body)
    return RedirectResponse(f"/ops/loans/{loan_id}#notes", 303)


@router.get("/overdue", response_class=HTMLResponse)
def overdue_page(
    request: Request, bucket: str = "",
    who: Principal = Depends(require_roles("collector", "risk_officer", "collection_lead")),
    *, session: SessionDep,
) -> HTMLResponse:
    rows = [r for r in search_loans(session, status=LoanStatus.OVERDUE, bucket=bucket, limit=500)]
    rows.sort(key=lambda r: (-r.loan.dpd, r.loan.id))
    figures = [b for b in delinquency_buckets(session) if b.bucket != "current"]
    return render(request, "ops/overdue.html", {"rows": rows, "bucket": bucket, "figures": figures, "who": who})
