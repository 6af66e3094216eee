"""Training mode in the merchant console (/merchant/training): the guided scenarios and each clerk's
checklist, the store manager's view of every clerk with the one-action reset, and the practice payment
of a training sale's down payment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.catalog.service import first_training_merchant_id, get_merchant, is_training
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.errors import InvalidInput
from fenqi.kit.web import SessionDep
from fenqi.origination import service as origination
from fenqi.payments.service import pay_training_order
from fenqi.training import service as training
from fenqi.web.console.common import merchant_in_scope
from fenqi.web.render import render

router = APIRouter(prefix="/merchant/training", include_in_schema=False)
staff = require_roles("clerk", "merchant_owner")
sellers = require_roles("clerk")
owners = require_roles("merchant_owner")


def training_merchant(session: Session, who: Principal, requested: int | None = None) -> int | None:
    """The training merchant a page is about: the staff member's own, if it is one; an admin's pick
    (default: the first training merchant). None when there is none."""
    if who.role == "admin" and requested is None:
        return first_training_merchant_id(session)
    merchant_id = merchant_in_scope(session, who, requested)
    return merchant_id if is_training(session, merchant_id) else None


@router.get("", response_class=HTMLResponse)
def training_page(request: Request, merchant: EntityId | None = None, done: str = "",
                  who: Principal = Depends(staff), *, session: SessionDep) -> HTMLResponse:
    merchant_id = training_merchant(session, who, merchant)
    parts = done.split("-")
    reset_counts = [int(x) for x in parts[1:3]] if len(parts) == 3 and parts[0] == "reset" and all(
        x.isdecimal() and len(x) < 10 for x in parts[1:3]) else None
    context: dict[str, Any] = {"who": who, "merchant": None, "scenarios": training.SCENARIOS, "clerks": [],
                               "reset": reset_counts}
    if merchant_id is not None:
        manager = who.role in ("merchant_owner", "admin")
        context.update(merchant=get_merchant(session, merchant_id), manager=manager,
                       clerks=training.checklist(session, merchant_id, user_id=None if manager else who.user_id))
    return render(request, "merchant/training.html", context)


@router.post("/reset")
def reset(request: Request, merchant: EntityId | None = None, who: Principal = Depends(owners),
          *, session: SessionDep) -> Response:
    merchant_id = training_merchant(session, who, merchant)
    if merchant_id is None:
        raise InvalidInput("merchant", zh="这不是培训门店", en="This is not a training store")
    result = training.reset(session, merchant_id, actor_user_id=who.user_id or None)
    return RedirectResponse(f"/merchant/training?merchant={merchant_id}&done=reset-{result.applications_cancelled}"
                            f"-{result.phones_restocked}", 303)


@router.post("/pay/{application_id}")
def practice_payment(application_id: EntityId, who: Principal = Depends(sellers), *, session: SessionDep) -> Response:
    """The shopper's down payment, acted by the clerk: only a training store's order, never a channel."""
    app = origination.get_application(session, application_id, who)
    if not app.payment_order:
        raise InvalidInput("application", zh="这笔申请没有待付的首付", en="This application has no down payment to pay")
    pay_training_order(session, app.payment_order)
    return RedirectResponse(f"/merchant/applications/{app.id}#payment", 303)
