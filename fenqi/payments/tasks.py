"""Background jobs of payments: poll orders whose notification is late or lost, close expired
ones, chase refunds still processing. Each order is its own transaction (job boundary).

In the demo they run on a thread of the web process (`start_background`); in production the
task queue calls `poll_once()` and `fenqi.payments.autodebit.run_batch()` on a schedule.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select

from fenqi.kit.db import session_scope
from fenqi.kit.errors import DomainError
from fenqi.kit.log import log
from fenqi.payments.models import PaymentRefund
from fenqi.payments.refunds import poll_refund
from fenqi.payments.service import get_order, orders_to_poll, poll_order

_started = threading.Event()


def poll_once(*, older_than: timedelta = timedelta(seconds=60), limit: int = 200) -> dict[str, int]:
    """One pass over pending orders and processing refunds. Returns how many ended in each state."""
    counts: dict[str, int] = {}
    with session_scope() as session:
        numbers = orders_to_poll(session, older_than=older_than, limit=limit)
        refund_ids = list(session.scalars(select(PaymentRefund.id).where(PaymentRefund.status == "processing")
                                          .limit(limit)))
    for number in numbers:
        try:
            with session_scope() as session:
                outcome = poll_order(session, get_order(session, number, lock=True))
        except DomainError as exc:
            outcome = "error"
            log.info("payments.poll.error", out_trade_no=number, error=exc.code)
        counts[outcome] = counts.get(outcome, 0) + 1
    for refund_id in refund_ids:
        try:
            with session_scope() as session:
                item = session.get(PaymentRefund, refund_id)
                if item is not None:
                    poll_refund(session, item)
        except DomainError as exc:
            log.info("payments.poll_refund.error", refund_id=refund_id, error=exc.code)
    return counts


def start_background(interval_seconds: float = 30.0) -> None:
    """The demo's in-process poller (daemon thread, started once)."""
    if _started.is_set():
        return
    _started.set()

    def loop() -> None:
        while True:
            time.sleep(interval_seconds)
            try:
                poll_once()
            except Exception as exc:  # keep polling whatever one pass hit
                log.warning("payments.poll.crashed", error=repr(exc))

    threading.Thread(target=loop, name="payments-poller", daemon=True).start()
