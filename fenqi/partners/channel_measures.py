"""Two measured indicators of a payment channel, from our own data (pure functions over the ports' DTOs):

- **Downtime windows**: a run of consecutive cashier orders on the channel (in order of creation) none of
  which was paid — failed, or closed unpaid (timed out) — is an outage when it holds at least
  `MIN_ORDERS` orders and lasts at least `MIN_MINUTES`: from the first unpaid order's creation to the next
  paid order's (or, with none after, to the last unpaid order's). Downtime is the outages' total minutes.
- **Complaints per channel**: after-sales complaints of category payment or fees about a loan are the
  channel's through which the loan's money was last paid before the complaint was filed (the loan's first
  payment when none was before).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

MIN_MINUTES = 10
MIN_ORDERS = 3
COMPLAINT_CATEGORIES = ("payment", "fees")


def downtime_windows(outcomes: Sequence[tuple[datetime, bool]], *, min_minutes: int = MIN_MINUTES,
                     min_orders: int = MIN_ORDERS) -> list[tuple[datetime, datetime]]:
    """The outage windows in `outcomes` ((created at, paid) in order of creation)."""
    windows: list[tuple[datetime, datetime]] = []
    run: list[datetime] = []

    def close(until: datetime | None) -> None:
        if len(run) >= min_orders:
            end = until or run[-1]
            if end - run[0] >= timedelta(minutes=min_minutes):
                windows.append((run[0], end))
        run.clear()

    for created, paid in outcomes:
        if paid:
            if run:
                close(created)
        else:
            run.append(created)
    if run:
        close(None)
    return windows


def minutes(windows: Iterable[tuple[datetime, datetime]]) -> float:
    return sum((end - start).total_seconds() for start, end in windows) / 60


def complaints_by_channel(complaints: Iterable[tuple[int, datetime]],
                          paid_through: Mapping[int, Sequence[tuple[datetime, str]]]) -> dict[str, int]:
    """(loan, filed at) of payment and fee complaints → how many each channel has."""
    out: dict[str, int] = {}
    for loan_id, filed in complaints:
        history = paid_through.get(loan_id)
        if not history:
            continue
        before = [channel for at, channel in history if at <= filed]
        channel = before[-1] if before else history[0][1]
        out[channel] = out.get(channel, 0) + 1
    return out
