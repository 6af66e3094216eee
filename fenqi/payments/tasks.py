"""Background jobs of payments (fenqi.kit.jobs): poll orders whose notification is late or lost and close
expired ones, follow up refunds still processing, the auto-debit batch (one job per agreement), and the
daily statement import and reconciliation (one job per channel). Each order, refund or agreement is its
own transaction (job boundary). A worker process calls `fenqi.wiring.install()` once at its start."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fenqi.kit.clock import business_date
from fenqi.kit.db import session_scope
from fenqi.kit.errors import DomainError
from fenqi.kit.jobs import defer, job, utc_cron_for_local_time
from fenqi.kit.log import log
from fenqi.payments.autodebit import active_agreement_ids, debit_one
from fenqi.payments.channels import CHANNELS
from fenqi.payments.models import PaymentRefund
from fenqi.payments.polling import orders_to_poll, poll_order
from fenqi.payments.reconcile import reconcile, report_json
from fenqi.payments.refunds import poll_refund
from fenqi.payments.service import get_order


def poll_once(*, older_than: timedelta = timedelta(seconds=60), limit: int = 200) -> dict[str, int]:
    """One pass over pending orders and processing refunds. Returns how many ended in each state."""
    counts = poll_orders(older_than_seconds=int(older_than.total_seconds()), limit=limit)
    poll_refunds(limit=limit)
    return counts


@job("payments.poll_orders", queue="payments", queueing_lock="payments.poll_orders", cron="* * * * *")
def poll_orders(older_than_seconds: int = 60, limit: int = 200) -> dict[str, int]:
    """Ask the channel about orders still pending after a minute (late or lost notification); orders past
    their time to live are closed."""
    counts: dict[str, int] = {}
    with session_scope() as session:
        numbers = orders_to_poll(session, older_than=timedelta(seconds=older_than_seconds), limit=limit)
    for number in numbers:
        try:
            with session_scope() as session:
                outcome = poll_order(session, get_order(session, number, lock=True))
        except DomainError as exc:
            outcome = "error"
            log.info("payments.poll.error", out_trade_no=number, error=exc.code)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


@job("payments.poll_refunds", queue="payments", queueing_lock="payments.poll_refunds", cron="* * * * *")
def poll_refunds(limit: int = 200) -> int:
    """Follow up refunds the channel has not finished yet."""
    with session_scope() as session:
        refund_ids = list(session.scalars(select(PaymentRefund.id).where(PaymentRefund.status == "processing")
                                          .order_by(PaymentRefund.id).limit(limit)))
    for refund_id in refund_ids:
        try:
            with session_scope() as session:
                item = session.get(PaymentRefund, refund_id)
                if item is not None:
                    poll_refund(session, item)
        except DomainError as exc:
            log.info("payments.poll_refund.error", refund_id=refund_id, error=exc.code)
    return len(refund_ids)


@job("payments.autodebit_batch", queue="payments", queueing_lock="payments.autodebit_batch",
     cron=utc_cron_for_local_time("09:00"))
def autodebit_batch(on: str | None = None) -> int:
    """Each morning: one debit job per active agreement, all enqueued in one transaction."""
    with session_scope() as session:
        day = date.fromisoformat(on) if on else business_date(session)
        ids = active_agreement_ids(session)
        for agreement_id in ids:
            defer(session, "payments.autodebit_agreement", lock=f"agreement:{agreement_id}",
                  agreement_id=agreement_id, on=day.isoformat())
    return len(ids)


@job("payments.autodebit_agreement", queue="payments")
def autodebit_agreement(agreement_id: int, on: str) -> str | None:
    """Debit one agreement's loan (never two at once for one agreement: the job's lock)."""
    order = debit_one(agreement_id, date.fromisoformat(on))
    return order.status if order is not None else None


@job("payments.reconcile_all", queue="payments", queueing_lock="payments.reconcile_all",
     cron=utc_cron_for_local_time("10:00"))
def reconcile_all(day: str | None = None) -> int:
    """Each morning: yesterday's (China time) statement of every channel, one job per channel."""
    statement_day = date.fromisoformat(day) if day else (
        datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1))
    with session_scope() as session:
        for channel in CHANNELS:
            defer(session, "payments.reconcile", queueing_lock=f"reconcile:{channel}:{statement_day}",
                  channel=channel, day=statement_day.isoformat())
    return len(CHANNELS)


@job("payments.reconcile", queue="payments", max_attempts=8, backoff=30)
def reconcile_channel(channel: str, day: str) -> dict[str, Any]:
    """Import one channel's statement of one day and match it with our books (retried while the
    channel has not published it yet)."""
    with session_scope() as session:
        report = report_json(reconcile(session, channel, date.fromisoformat(day)))
    return {"run_id": report["run_id"], "counts": report["counts"]}
