"""What the shopper's pages share: the role check, ownership of applications and loans, a savepoint
around service calls whose errors are shown on the page, and display helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_merchant, get_store
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.errors import DomainError, Forbidden
from fenqi.kit.money import from_fen
from fenqi.kit.web import request_language
from fenqi.origination.service import get_application, list_applications
from fenqi.servicing.service import get_loan
from fenqi.web.errors import page_message
from fenqi.web.render import render

if TYPE_CHECKING:  # applications and loans come from origination's and servicing's services; no table is read here
    from fenqi.origination.models import Application
    from fenqi.servicing.models import Loan

shopper_only = require_roles("shopper")
Shopper = Depends(shopper_only)

CHANNELS = {"alipay": ("支付宝", "Alipay"), "wechatpay": ("微信支付", "WeChat Pay")}


def yuan(fen: int) -> str:
    """¥ amounts on pages: 1234567 fen → "12,345.67"."""
    return f"{from_fen(fen):,.2f}"


def yuan_text(text: str) -> str:
    """A JSON amount ("5999.00") in the pages' form ("5,999.00")."""
    return f"{Decimal(text):,.2f}"


def own_application(session: Session, application_id: int, who: Principal) -> Application:
    """The shopper's own application (403 for anyone else's; origination checks ownership)."""
    return get_application(session, application_id, who)


def own_loan(session: Session, loan_id: int, who: Principal) -> tuple[Loan, Application]:
    """A loan the shopper holds, with the application it came from (the phone, the plan)."""
    app = application_of_loan(session, loan_id, who)
    if app is None:
        raise Forbidden()
    return get_loan(session, loan_id), app


def application_of_loan(session: Session, loan_id: int, who: Principal) -> Application | None:
    for app in signed_applications(session, who):
        if app.loan_id == loan_id:
            return app
    return None


def signed_applications(session: Session, who: Principal) -> list[Application]:
    return [a for a in list_applications(session, who, status="signed", limit=200) if a.loan_id is not None]


async def posted(request: Request) -> dict[str, str]:
    """A page form's fields. Read here, on the event loop, so that the endpoints themselves can be plain
    functions run in the thread pool: they call services that block (the database, a payment channel's
    API on this very server in the demo), which must never hold up the event loop."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


Posted = Depends(posted)


@contextmanager
def attempt(session: Session) -> Iterator[None]:
    """Run service calls in a savepoint: a domain error the page shows undoes what they wrote, so the
    request can still commit (e.g. a form re-rendered with the error) without a half-written record."""
    nested = session.begin_nested()
    try:
        yield
    except DomainError:
        nested.rollback()
        raise
    nested.commit()


def error_page(request: Request, message: str | DomainError, back: str, status: int = 400) -> HTMLResponse:
    """A domain error on a page: said in the page's language (a Chinese page without English fragments),
    with the way back."""
    if isinstance(message, DomainError):
        lang = request_language(request)
        message = page_message(message.code, message.status, message.message(lang), message.detail, lang)
    return render(request, "shopper/error.html", {"message": message, "back": back, "status": status},
                  status_code=status)


def site_url(request: Request, path: str) -> str:
    """An absolute URL on the host the shopper is using (where a payment channel sends them back)."""
    return str(request.base_url).rstrip("/") + path


def pickup_store(session: Session, app: Application) -> dict[str, str]:
    """Where the shopper collects the phone: the store of the application, its merchant, city and address
    (the address empty when the store has none on record)."""
    store = get_store(session, app.store_id)
    return {"merchant": get_merchant(session, store.merchant_id).name, "name": store.name, "city": store.city,
            "address": store.address}
