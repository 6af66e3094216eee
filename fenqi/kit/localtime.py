"""Beijing time (Asia/Shanghai) for what people read. Times are stored in UTC (naive values from the
database are UTC) and shown in local time in pages, CSV exports and PDFs."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(moment: datetime) -> datetime:
    """The same instant in Asia/Shanghai."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(SHANGHAI)


def shown_time(value: datetime | str | None, *, seconds: bool = False) -> str:
    """A stored time — a datetime or its ISO text — as Beijing wall-clock time for people: "2026-03-31 16:05"
    (with `seconds`, "2026-03-31 16:05:09"). Pages and the CLI's printed lines never show UTC."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return f"{local(moment):%Y-%m-%d %H:%M:%S}" if seconds else f"{local(moment):%Y-%m-%d %H:%M}"


def csv_time(moment: datetime | None) -> str:
    """A CSV cell: local time with its offset, unambiguous for any reader ("2026-12-01 18:05:00+08:00")."""
    return "" if moment is None else local(moment).replace(microsecond=0).isoformat(sep=" ")


def report_time(moment: datetime) -> str:
    """For a printed report: "2026-12-01 18:05（北京时间）"."""
    return f"{local(moment):%Y-%m-%d %H:%M}（北京时间）"
