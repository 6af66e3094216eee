"""A port for the partner scorecard: what our own payment data says about one channel over a window.

Counts and durations only (DTOs, never rows), so the partners domain reads them without our tables:
- orders: created in the window and finished — paid (or refunded after paying), failed or closed;
  pending orders are not counted yet. Auto-debit orders are those made under an agreement.
- callback delays: seconds from the channel's payment time to our receipt of its callback, for
  payment callbacks (not polls) of orders created in the window;
- signature failures: callbacks whose signature did not verify, received in the window;
- refund times: seconds from asking the channel for a refund to its success, refunds asked in the window;
- reconciliation: statement days in the window, their lines and the discrepancies found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import uuid4

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.kit.db import utcnow
from fenqi.payments.models import CallbackInbox, PaymentOrder, PaymentRefund, ReconciliationRun
from fenqi.pricing.platform import returned_fee_fen

FINISHED = ("paid", "refunded", "failed", "closed")
PAID = ("paid", "refunded")
FORGED = "forged"


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    channel: str
    orders: int
    paid: int
    callback_delays_s: tuple[float, ...]
    signature_failures: int
    refund_times_s: tuple[float, ...]
    autodebit_orders: int
    autodebit_paid: int
    reconciled_days: int
    reconciled_lines: int
    discrepancies: int
    # cashier orders (not auto-debits) in order of creation: (created at, paid), for downtime windows
    cashier_outcomes: tuple[tuple[datetime, bool], ...] = ()


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record_signature_failure(session: Session, channel: str) -> None:
    """A callback whose signature did not verify, kept (without its body) so the scorecard can count them."""
    session.add(CallbackInbox(channel=channel, event_id=f"forged:{uuid4().hex}", kind=FORGED, source="callback",
                              out_trade_no="", amount_fen=0, payload={}, status=FORGED, received_at=utcnow()))
    session.flush()


def channel_facts(session: Session, channel: str, start: datetime, end: datetime, days: tuple[date, date]
                  ) -> ChannelFacts:
    """`start`–`end`: the window (UTC, end exclusive); `days`: the same window as statement days."""
    in_window = (PaymentOrder.channel == channel, PaymentOrder.created_at >= start, PaymentOrder.created_at < end,
                 PaymentOrder.status.in_(FINISHED), PaymentOrder.training.is_(False))
    rows = session.execute(select(PaymentOrder.status, PaymentOrder.agreement_id, PaymentOrder.created_at)
                           .where(*in_window).order_by(PaymentOrder.created_at, PaymentOrder.id)).all()
    paid = [r for r in rows if r.status in PAID]
    delays = session.execute(
        select(CallbackInbox.received_at, PaymentOrder.paid_at)
        .join(PaymentOrder, PaymentOrder.out_trade_no == CallbackInbox.out_trade_no)
        .where(*in_window, CallbackInbox.channel == channel, CallbackInbox.source == "callback",
               CallbackInbox.kind == "payment", CallbackInbox.status == "processed",
               PaymentOrder.paid_at.is_not(None))
    ).all()
    forged = session.scalar(select(func.count()).select_from(CallbackInbox).where(
        CallbackInbox.channel == channel, CallbackInbox.status == FORGED,
        CallbackInbox.received_at >= start, CallbackInbox.received_at < end)) or 0
    refunds = session.execute(
        select(PaymentRefund.created_at, PaymentRefund.succeeded_at)
        .join(PaymentOrder, PaymentOrder.id == PaymentRefund.order_id)
        .where(PaymentOrder.channel == channel, PaymentRefund.status == "succeeded", PaymentOrder.training.is_(False),
               PaymentRefund.succeeded_at.is_not(None), PaymentRefund.created_at >= start,
               PaymentRefund.created_at < end)
    ).all()
    runs = session.execute(select(ReconciliationRun.lines, ReconciliationRun.discrepancies).where(
        ReconciliationRun.channel == channel, ReconciliationRun.day >= days[0], ReconciliationRun.day <= days[1])
    ).all()
    return ChannelFacts(
        channel=channel, orders=len(rows), paid=len(paid),
        callback_delays_s=tuple(sorted(max((_aware(r) - _aware(p)).total_seconds(), 0.0)
                                       for r, p in delays if p is not None)),
        signature_failures=int(forged),
        refund_times_s=tuple(sorted((_aware(s) - _aware(c)).total_seconds() for c, s in refunds if s is not None)),
        autodebit_orders=sum(1 for r in rows if r.agreement_id is not None),
        autodebit_paid=sum(1 for r in paid if r.agreement_id is not None),
        reconciled_days=len(runs), reconciled_lines=sum(r.lines for r in runs),
        discrepancies=sum(r.discrepancies for r in runs),
        cashier_outcomes=tuple((_aware(r.created_at), r.status in PAID) for r in rows if r.agreement_id is None),
    )


def loan_payment_channels(session: Session, loan_ids: list[int]) -> dict[int, list[tuple[datetime, str]]]:
    """The channels each loan's money was paid through: loan → [(paid at, channel)] in time order."""
    out: dict[int, list[tuple[datetime, str]]] = {}
    for i in range(0, len(loan_ids), 500):
        rows = session.execute(select(PaymentOrder.loan_id, PaymentOrder.paid_at, PaymentOrder.channel).where(
            PaymentOrder.loan_id.in_(loan_ids[i:i + 500]), PaymentOrder.status.in_(PAID),
            PaymentOrder.paid_at.is_not(None), PaymentOrder.training.is_(False))
            .order_by(PaymentOrder.paid_at, PaymentOrder.id))
        for loan_id, paid_at, channel in rows:
            if loan_id is not None and paid_at is not None:
                out.setdefault(int(loan_id), []).append((_aware(paid_at), str(channel)))
    return out


@dataclass(frozen=True, slots=True)
class PlatformInstallmentFacts:
    """花呗分期 paid through a channel in a window: how many, how much, and the platform's fees by who paid."""

    payments: int
    amount_fen: int
    shopper_fee_fen: int
    merchant_fee_fen: int


def platform_installment_facts(session: Session, channel: str, start: datetime, end: datetime
                               ) -> PlatformInstallmentFacts:
    """Orders paid with 花呗分期 (`hb_fq_num` set) whose payment time falls in [start, end), net of their
    refunds: the amount kept, and each part of the fee less its share of what was refunded (the merchant's
    part is what Alipay gives back, fenqi.payments.platform_fees; the shopper's counted the same way)."""
    rows = session.execute(select(PaymentOrder.amount_fen, PaymentOrder.hb_fee_fen, PaymentOrder.hb_fq_seller_percent,
                                  PaymentOrder.refunded_fen)
                           .where(PaymentOrder.channel == channel, PaymentOrder.hb_fq_num.is_not(None),
                                  PaymentOrder.status.in_(PAID), PaymentOrder.paid_at >= start,
                                  PaymentOrder.paid_at < end, PaymentOrder.training.is_(False))).all()
    amount = merchant = shopper = 0
    for paid, fee, percent, refunded in rows:
        own = fee * percent // 100
        amount += paid - refunded
        merchant += own - returned_fee_fen(own, paid, 0, refunded)
        shopper += fee - own - returned_fee_fen(fee - own, paid, 0, refunded)
    return PlatformInstallmentFacts(len(rows), amount, shopper, merchant)


@dataclass(frozen=True, slots=True)
class CashierOrder:
    """One cashier payment order (not an auto-debit) for a channel pilot's comparison."""

    channel: str
    paid: bool
    callback_delay_s: float | None  # from the channel's payment time to our receipt of its callback


def cashier_orders(session: Session, start: datetime, end: datetime) -> list[CashierOrder]:
    """Finished cashier orders created in [start, end) on every channel, with their callback delays."""
    where = (PaymentOrder.created_at >= start, PaymentOrder.created_at < end, PaymentOrder.status.in_(FINISHED),
             PaymentOrder.agreement_id.is_(None), PaymentOrder.training.is_(False))
    rows = session.execute(select(PaymentOrder.out_trade_no, PaymentOrder.channel, PaymentOrder.status,
                                  PaymentOrder.paid_at).where(*where)).all()
    received = {no: at for no, at in session.execute(
        select(CallbackInbox.out_trade_no, func.min(CallbackInbox.received_at))
        .join(PaymentOrder, PaymentOrder.out_trade_no == CallbackInbox.out_trade_no)
        .where(*where, CallbackInbox.source == "callback", CallbackInbox.kind == "payment",
               CallbackInbox.status == "processed")
        .group_by(CallbackInbox.out_trade_no))}
    out = []
    for no, channel, status, paid_at in rows:
        got = received.get(no)
        delay = None if got is None or paid_at is None else max((_aware(got) - _aware(paid_at)).total_seconds(), 0.0)
        out.append(CashierOrder(channel, status in PAID, delay))
    return out
