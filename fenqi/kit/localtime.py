"""Beijing time (Asia/Shanghai) for what people read. Times are stored in UTC (naive values from the
database are UTC) and shown in local time in pages, CSV exports and PDFs."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(moment: datetime) -> datetime:
    """The same instant in Asia/Shanghai."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(SHANGHAI)


def csv_time(moment: datetime | None) -> str:
    """A CSV cell: local time with its offset, unambiguous for any reader ("2026-12-01 18:05:00+08:00")."""
    return "" if moment is None else local(moment).replace(microsecond=0).isoformat(sep=" ")


def report_time(moment: datetime) -> str:
    """For a printed report: "2026-12-01 18:05（北京时间）"."""
    return f"{local(moment):%Y-%m-%d %H:%M}（北京时间）"
