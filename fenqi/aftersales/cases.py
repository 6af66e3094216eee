"""The after-sales case's own primitives, shared by the service (opening, inspecting, deciding) and by the
steps that process a decision (fenqi.aftersales.returns, .exchanges, .reprice, .repairs): loading a case
with its access rule, its event trail, the messages to the shopper, the "phone back" port, completion,
and the policy's proposal for the case. The steps import these from here, so that the service can
dispatch to the steps without either importing the other back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from fenqi.aftersales.errors import CaseNotFound
from fenqi.aftersales.models import AftersalesCase, CaseEvent, CaseStatus, RepairTicket
from fenqi.aftersales.policies import policy_of_case
from fenqi.aftersales.policy import Facts, Proposal, propose
from fenqi.catalog.reporting import training_merchants
from fenqi.catalog.service import is_training
from fenqi.identity.deps import Principal
from fenqi.identity.roles import MERCHANT_ROLES, SHOPPER
from fenqi.identity.service import notify
from fenqi.kit.crypto import decrypt
from fenqi.kit.db import utcnow
from fenqi.kit.errors import Forbidden
from fenqi.kit.log import log
from fenqi.origination.service import get_application
from fenqi.servicing.service import get_loan

DESK_ROLES = ("clerk", "merchant_owner")
OPEN_LOAN = ("active", "overdue")  # servicing's open statuses


# --- the "phone back" port -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhoneBack:
    """A phone came back from a shopper: `returned` (the loan is cancelled) or `exchanged` for `new_imei`
    (now bound to the same loan). `in_stock` says whether it went straight back on the shelf."""

    kind: Literal["returned", "exchanged"]
    case_id: int
    loan_id: int
    merchant_id: int
    imei: str
    new_imei: str | None
    in_stock: bool


PhoneBackListener = Callable[[Session, PhoneBack], None]
_phone_back_listeners: list[PhoneBackListener] = []


def on_phone_back(listener: PhoneBackListener) -> PhoneBackListener:
    """Register `listener(session, event)`, run in the same transaction when a returned or exchanged phone
    is back (devices release it from the loan's lock policy). Registered from `fenqi.wiring.install()`."""
    if listener not in _phone_back_listeners:
        _phone_back_listeners.append(listener)
    return listener


def phone_back(session: Session, case: AftersalesCase, kind: Literal["returned", "exchanged"], *,
               in_stock: bool) -> None:
    back = PhoneBack(kind=kind, case_id=case.id, loan_id=case.loan_id, merchant_id=case.merchant_id,
                     imei=case.imei, new_imei=case.new_imei, in_stock=in_stock)
    for listener in list(_phone_back_listeners):
        listener(session, back)


# --- events and notifications ---------------------------------------------------------------------


def event(session: Session, subject: str, kind: str, zh: str, en: str, actor: int | None = None) -> None:
    session.add(CaseEvent(subject=subject, kind=kind, actor_user_id=actor, zh=zh[:300], en=en[:300]))
    session.flush()


def events(session: Session, subject: str) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.subject == subject).order_by(CaseEvent.id)))


def notify_shopper(session: Session, application_id: int, template: str, body: str) -> None:
    """A message to the shopper through the outbox (SMS), to the phone number of the application."""
    try:
        app = get_application(session, application_id)
        if is_training(session, app.merchant_id):  # a training store's practice texts nobody
            return
        notify(session, channel="sms", to=decrypt(app.phone_enc), template=template, body=body[:300])
    except Exception as exc:  # a message that cannot be queued must not undo the after-sales step
        log.info("aftersales.notify.failed", template=template, error=type(exc).__name__)


def complete(session: Session, case: AftersalesCase, zh: str, en: str) -> None:
    case.status, case.closed_at = CaseStatus.COMPLETED, utcnow()
    event(session, f"case:{case.id}", "completed", zh, en)
    notify_shopper(session, case.application_id, "aftersales.completed", f"【分期】售后单{case.id}已完成：{zh}")


# --- access ---------------------------------------------------------------------------------------


def check_access(principal: Principal, case: AftersalesCase) -> None:
    """Shoppers see their own cases; clerks and owners their merchant's; operations and admin all."""
    if principal.role == SHOPPER:
        if case.shopper_user_id != principal.user_id:
            raise Forbidden()
    elif principal.role in MERCHANT_ROLES and principal.merchant_id != case.merchant_id:
        raise Forbidden()


def require_desk(principal: Principal, case: AftersalesCase) -> None:
    """Inspecting and deciding happen at the merchant's desk (or by an administrator)."""
    if principal.role not in (*DESK_ROLES, "admin"):
        raise Forbidden()
    check_access(principal, case)


def get_case(session: Session, case_id: int, principal: Principal | None = None, *, lock: bool = False
             ) -> AftersalesCase:
    query = select(AftersalesCase).where(AftersalesCase.id == case_id).execution_options(populate_existing=True)
    case = session.scalar(query.with_for_update() if lock else query)
    if case is None:
        raise CaseNotFound(str(case_id))
    if principal is not None:
        check_access(principal, case)
    return case


def of_book(merchant_id: Any, training: bool) -> ColumnElement[bool]:
    """Rows of training merchants' practice (`training`) or of the real business (the default of every
    operations list: practice is nobody's work). A NULL merchant is real business."""
    practice = training_merchants()
    return merchant_id.in_(practice) if training else or_(merchant_id.is_(None), merchant_id.not_in(practice))


# --- the proposal -------------------------------------------------------------------------------------


def failed_repairs(session: Session, loan_id: int) -> int:
    """Repairs of this loan's phone that did not fix the fault (the 三包 count toward an exchange). Counted
    here, not in fenqi.aftersales.repairs, because the proposal needs it and repairs needs the proposal."""
    return int(session.scalar(
        select(func.coalesce(func.sum(RepairTicket.failed_repairs), 0))
        .join(AftersalesCase, AftersalesCase.id == RepairTicket.case_id)
        .where(AftersalesCase.loan_id == loan_id)) or 0)


def facts_of(session: Session, case: AftersalesCase, today: date | None = None) -> Facts:
    loan = get_loan(session, case.loan_id)
    return Facts(reason=case.reason, sale_date=case.sale_date, today=today or case.opened_on, online=case.online,
                 part=case.part, inspection=case.inspection, failed_repairs=failed_repairs(session, case.loan_id),
                 loan_open=loan.status in OPEN_LOAN)


def proposal_for(session: Session, case: AftersalesCase) -> Proposal:
    """What the policy version of the case allows for its facts. The window is counted to the day the case
    was opened (a shopper who asked on day 6 keeps the 7-day return while the phone travels to the desk)."""
    return propose(policy_of_case(session, case.policy_id), facts_of(session, case))
