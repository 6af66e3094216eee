"""Due dates: period k falls k months after the start, on the same day, clamped to the month's end."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(start: date, months: int) -> date:
    """Counted from the start each time, so 31 Jan → 28/29 Feb → 31 Mar (never drifting to the 28th)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def due_dates(start: date, term: int) -> list[date]:
    return [add_months(start, k) for k in range(1, term + 1)]
