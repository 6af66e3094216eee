"""The device lock's reactions to other domains, wired by `install()` (called once from
`fenqi.wiring.install()` at start-up, never on import):

* catalog: a phone sold on a loan (the handover, or the new phone of an exchange) gets its lock record;
  a phone that comes back (a return, the old phone of an exchange) is released for good;
* payments: an installment or payoff payment, once servicing has applied it, re-decides the loan's
  phones at once (a cure unlocks and pushes, a payoff releases);
* servicing: the lock policy as a close-of-business chunk step;
* after-sales: a returned or exchanged phone (its phone-back port, wired in fenqi.wiring since
  after-sales sits above the lock) is released for good;
* the lock warning is one of collections' notices (`queue_notice`, kind `lock_warning`): sent by its
  dispatcher under the quiet hours and daily caps.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from fenqi.catalog.stock import on_device_moved
from fenqi.collections.service import queue_notice
from fenqi.devices import service
from fenqi.devices.cob import lock_step
from fenqi.kit.errors import NotFound
from fenqi.kit.log import log
from fenqi.payments.handlers import register_paid_handler
from fenqi.servicing.cob_steps import register_chunk_step
from fenqi.servicing.service import get_loan


def device_moved(session: Session, imei: str, loan_id: int | None, status: str) -> None:
    if status == "sold" and loan_id is not None:
        try:
            service.register_device(session, loan_id=loan_id, imei=imei)
        except NotFound:  # a phone bound to a loan servicing does not know (catalog's own tests): nothing to lock
            log.warning("devices.register.no_loan", loan_id=loan_id)
    elif status == "returned":
        try:
            cancelled = loan_id is not None and get_loan(session, loan_id).status == "cancelled"
        except NotFound:
            cancelled = False
        why = "return" if cancelled else "exchange"
        service.device_back(session, imei=imei, loan_id=loan_id, why=why)


def repayment_paid(session: Session, order: Any) -> None:
    if order.loan_id is not None:
        service.loan_paid(session, int(order.loan_id), payoff=order.purpose == "payoff")


def warning_notice(session: Session, loan_id: int, lock_on: date, text: str) -> None:
    """The lock warning as collections' `lock_warning` notice (its template has the wording; `text` is
    what the history and logs keep)."""
    queue_notice(session, loan_id, "lock_warning", {"lock_date": f"{lock_on.month}月{lock_on.day}日"})


def phone_back(session: Session, back: Any) -> None:
    """After-sales: a returned phone, or the old phone of an exchange, is released for good."""
    service.device_back(session, imei=back.imei, loan_id=back.loan_id,
                        why="return" if back.kind == "returned" else "exchange")


def install() -> None:
    on_device_moved(device_moved)
    register_paid_handler("installment", repayment_paid)
    register_paid_handler("payoff", repayment_paid)
    register_chunk_step("devices.lock", lock_step, order=200)
    service.set_warning_sender(warning_notice)
