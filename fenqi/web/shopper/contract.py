"""The signed contract the shopper can read: the e-contract as an HTML page (phone width, headings, a real
table) and the same words as a PDF, both drawn from the contract's stored text (fenqi.origination.contract_text).
The borrower reads their own name in full; anyone else's pages keep it masked."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fenqi.identity.deps import Principal
from fenqi.kit.bounds import EntityId
from fenqi.kit.web import SessionDep
from fenqi.origination import signing
from fenqi.web.render import render
from fenqi.web.shopper.common import Shopper, own_application

router = APIRouter()


@router.get("/shop/applications/{application_id}/contract", response_class=HTMLResponse)
def contract_page(application_id: EntityId, request: Request, session: SessionDep,
                  who: Principal = Shopper) -> Response:
    app = own_application(session, application_id, who)
    if signing.latest_contract(session, app.id) is None:  # not drawn up yet: the decision page leads on
        return RedirectResponse(f"/shop/applications/{app.id}", 303)
    copy, _ = signing.contract_copy(session, app, who)
    return render(request, "shopper/contract.html", {
        "app": app, "copy": copy, "pdf_url": f"/shop/applications/{app.id}/contract.pdf",
        "back": f"/shop/loans/{app.loan_id}" if app.loan_id else f"/shop/applications/{app.id}/offer",
    })


@router.get("/shop/applications/{application_id}/contract.pdf")
def contract_pdf(application_id: EntityId, session: SessionDep, who: Principal = Shopper) -> Response:
    """The borrower's copy as a PDF: the same blocks as the page, with the borrower's own name."""
    app = own_application(session, application_id, who)
    copy, stored = signing.contract_copy(session, app, who)
    return Response(copy.pdf(stored.pdf), media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{copy.number}.pdf"', "Cache-Control": "private, no-store"})
