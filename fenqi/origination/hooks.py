"""Origination's reactions to other domains' events and the port it offers payments, wired by
`install()` — called once at start-up from `fenqi.wiring.install()`, never on import."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.kit.log import log
from fenqi.origination import huabei_sales
from fenqi.origination.models import Application
from fenqi.origination.service import apply_review
from fenqi.origination.signing import mark_down_payment_paid
from fenqi.payments import handlers as payments
from fenqi.risk import monitoring as risk_monitoring
from fenqi.risk import service as risk
from fenqi.risk.schemas import Decision
from fenqi.servicing import queries as servicing_queries


def down_payment_paid(session: Session, order: Any) -> None:
    """The shopper paid the down payment: the clerk may hand the phone over — but only when it is the
    order the application references, for the application's down payment. Any other payment naming
    the application (an old order paid late, a forged attempt) leaves it unpaid; the money is in the
    books and reconciliation/finance deal with it."""
    if order.application_id is None:
        return
    app = session.get(Application, order.application_id)
    paid = order.paid_amount_fen or order.amount_fen
    if app is None or app.payment_order != order.out_trade_no or paid != app.down_payment_fen:
        log.warning("origination.down_payment.not_the_order", application_id=order.application_id,
                    out_trade_no=order.out_trade_no, amount_fen=paid)
        return
    mark_down_payment_paid(session, app.id)


def decision_reviewed(session: Session, decision: Decision) -> None:
    """Manual review finished: the referred application moves on (approved and routed, or declined)."""
    apply_review(session, decision)


def application_due(session: Session, application_id: int) -> payments.ApplicationDue | None:
    app = session.get(Application, application_id)
    if app is None:
        return None
    return payments.ApplicationDue(
        application_id=app.id, status=app.status, owner_user_id=app.shopper_user_id, merchant_id=app.merchant_id,
        loan_id=app.loan_id, down_payment_fen=app.down_payment_fen, paid=app.down_payment_paid,
        payment_order=app.payment_order)


def repoint_down_payment(session: Session, application_id: int, out_trade_no: str) -> None:
    app = session.get(Application, application_id)
    if app is not None:
        app.payment_order = out_trade_no
        session.flush()


def loan_outcomes(session: Session, application_ids: Sequence[int]) -> dict[int, bool]:
    """Risk monitoring's port: for each application that became a loan, whether the loan went bad."""
    pairs: dict[int, int] = {}
    ids = list(application_ids)
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(Application.loan_id, Application.id).where(
                Application.id.in_(ids[start:start + 1000]), Application.loan_id.is_not(None))
        )
        pairs.update((loan_id, app_id) for loan_id, app_id in rows if loan_id is not None)
    bad = servicing_queries.went_bad(session, list(pairs))
    return {app_id: bad[loan_id] for loan_id, app_id in pairs.items() if loan_id in bad}


def install() -> None:
    payments.register_paid_handler("down_payment", down_payment_paid)
    payments.register_paid_handler("sale", huabei_sales.sale_paid)
    payments.register_closed_handler("sale", huabei_sales.sale_closed)
    payments.register_application_port(application_due, repoint_down_payment)
    risk.register_review_handler(decision_reviewed)
    risk_monitoring.register_outcomes(loan_outcomes)
