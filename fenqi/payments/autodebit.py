"""Auto-debit (代扣): shoppers who signed a withholding agreement are debited on the due date.

Modelled on Alipay's 商户代扣 (alipay.user.agreement.page.sign, then alipay.trade.pay with
product_code GENERAL_WITHHOLDING and agreement_params.agreement_no: a synchronous result plus the
usual notification) and WeChat Pay's 委托代扣 (pre-entrust signing of a contract under a plan, then
/v3/papay/pay/transactions/apply: accepted at once, the result arrives as a notification).

The batch creates one payment order per loan and due date per attempt, with deterministic retries:
on the due date, one day later and three days later; a payment that is pending or paid stops
further attempts; results flow through the same inbox as every other payment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.db import session_scope
from fenqi.kit.errors import DomainError, NotFound
from fenqi.kit.ids import new_id
from fenqi.kit.log import log
from fenqi.payments import servicing_port
from fenqi.payments.channels import CHANNELS, Notification, get_channel
from fenqi.payments.channels.base import payment_event_id
from fenqi.payments.errors import AgreementNotActive, UnknownChannel
from fenqi.payments.inbox import process
from fenqi.payments.models import PaymentAgreement, PaymentOrder
from fenqi.payments.service import create_order, mark_unpaid

RETRY_OFFSETS_DAYS = (0, 1, 3)


def start_agreement(session: Session, *, loan_id: int, channel: str, return_url: str = "") -> PaymentAgreement:
    """A pending agreement and the page where the shopper signs it on the channel."""
    if channel not in CHANNELS:
        raise UnknownChannel(channel)
    agreement = PaymentAgreement(channel=channel, external_no=new_id("AG"), loan_id=loan_id, status="pending")
    session.add(agreement)
    session.flush()
    agreement.sign_url = get_channel(channel).agreement_sign_url(external_no=agreement.external_no,
                                                                 return_url=return_url)
    session.flush()
    return agreement


def get_agreement(session: Session, external_no: str) -> PaymentAgreement:
    agreement = session.scalar(select(PaymentAgreement).where(PaymentAgreement.external_no == external_no))
    if agreement is None:
        raise NotFound.saying(f"代扣协议 {external_no}", f"agreement {external_no}")
    return agreement


def refresh_agreement(session: Session, agreement: PaymentAgreement) -> PaymentAgreement:
    """Ask the channel whether the shopper signed (or cancelled) the agreement."""
    info = get_channel(agreement.channel).query_agreement(agreement.external_no)
    agreement.status = info.status
    agreement.agreement_no = info.agreement_no or agreement.agreement_no
    session.flush()
    return agreement


def debit_loan(session: Session, agreement: PaymentAgreement, on: date) -> PaymentOrder | None:
    """Debit what the agreement's loan has due on `on`, if the retry policy allows an attempt now."""
    if agreement.status != "active" or not agreement.agreement_no:
        raise AgreementNotActive(agreement.external_no)
    due = servicing_port.amount_due(session, agreement.loan_id, on)
    if due is None:
        return None
    due_date, amount = due
    tried = list(session.scalars(select(PaymentOrder).where(
        PaymentOrder.agreement_id == agreement.id, PaymentOrder.due_date == due_date).order_by(PaymentOrder.attempt)))
    if any(o.status in ("pending", "paid", "refunded") for o in tried):
        return None
    attempt = len(tried) + 1
    if attempt > len(RETRY_OFFSETS_DAYS) or on < due_date + timedelta(days=RETRY_OFFSETS_DAYS[attempt - 1]):
        return None
    order = create_order(session, purpose="installment", amount_fen=amount, channel=agreement.channel,
                         subject=f"分期月供自动扣款 {due_date.isoformat()}", loan_id=agreement.loan_id,
                         agreement_id=agreement.id, attempt=attempt, due_date=due_date)
    info = get_channel(agreement.channel).debit(agreement_no=agreement.agreement_no, out_trade_no=order.out_trade_no,
                                                amount_fen=amount, subject=order.subject)
    if info.status == "paid":
        event = Notification(
            kind="payment", event_id=payment_event_id(order.out_trade_no, info.trade_no),
            out_trade_no=order.out_trade_no, trade_no=info.trade_no, amount_fen=info.amount_fen, status="paid",
            paid_at=info.paid_at, payload={"source": "debit", "trade_no": info.trade_no})
        process(session, agreement.channel, event, source="debit")
    elif info.status == "failed":
        mark_unpaid(session, order, "failed", info.reason or "debit refused")
        after_failure(session, order)
    session.refresh(order)
    return order


def after_failure(session: Session, order: PaymentOrder) -> None:
    """A failed debit: the next batch run retries it per RETRY_OFFSETS_DAYS; the last failure is logged
    for collections (who see the installment overdue through servicing anyway)."""
    if order.agreement_id is None:
        return
    final = order.attempt >= len(RETRY_OFFSETS_DAYS)
    log.info("payments.autodebit.failed", out_trade_no=order.out_trade_no, attempt=order.attempt, final=final,
             reason=order.failure_reason)


@dataclass
class BatchResult:
    on: date
    agreements: int = 0
    debited: int = 0
    paid: int = 0
    pending: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"on": self.on.isoformat(), "agreements": self.agreements, "debited": self.debited,
                "paid": self.paid, "pending": self.pending, "failed": self.failed, "errors": self.errors}


def debit_one(agreement_id: int, on: date) -> PaymentOrder | None:
    """One agreement's debit for `on`, in its own transaction (the per-agreement job)."""
    with session_scope() as session:
        agreement = session.get(PaymentAgreement, agreement_id)
        if agreement is None or agreement.status != "active":
            return None
        return debit_loan(session, agreement, on)


def active_agreement_ids(session: Session) -> list[int]:
    return list(session.scalars(select(PaymentAgreement.id).where(PaymentAgreement.status == "active")
                                .order_by(PaymentAgreement.id)))


def run_batch(on: date | None = None) -> BatchResult:
    """The whole batch in this process: one transaction per agreement, so one loan's trouble never stops
    the others. (On PostgreSQL the nightly job instead enqueues one job per agreement.)"""
    with session_scope() as session:
        on = on or business_date(session)
        ids = active_agreement_ids(session)
    result = BatchResult(on=on, agreements=len(ids))
    for agreement_id in ids:
        try:
            order = debit_one(agreement_id, on)
            if order is not None:
                result.debited += 1
                status = order.status
                result.paid += status == "paid"
                result.pending += status == "pending"
                result.failed += status == "failed"
        except DomainError as exc:
            result.errors.append(f"agreement {agreement_id}: {exc.message('en')}")
        except Exception as exc:  # a bug or an outage in one item must not stop the others: log, go on, report
            log.exception("payments.autodebit.item_crashed", agreement_id=agreement_id)
            result.errors.append(f"agreement {agreement_id}: unexpected {type(exc).__name__}")
    log.info("payments.autodebit.batch", **result.to_json())
    return result
