"""How an installment and a loan's delinquency read to people (pure: no database).

Servicing keeps an unpaid installment in status `due` from its due date until it is paid; to a shopper
or a collector that row is overdue once its due date has been closed. Days past due are servicing's own
dpd rule (`fenqi.servicing.rules.days_past_due`: the last closed business date − the due date + 1), so
the row and the loan never disagree.
"""

from __future__ import annotations

from datetime import date

from fenqi.servicing.rules import days_past_due

# Buckets as people read them (the codes stay M1…M4+ in data and filters).
BUCKET_LABELS: dict[str, tuple[str, str]] = {
    "current": ("正常", "Current"),
    "M1": ("M1（逾期1–30天）", "M1 (1–30 days past due)"),
    "M2": ("M2（逾期31–60天）", "M2 (31–60 days past due)"),
    "M3": ("M3（逾期61–90天）", "M3 (61–90 days past due)"),
    "M4+": ("M4+（逾期90天以上）", "M4+ (over 90 days past due)"),
}

_PLAIN: dict[str, tuple[str, str]] = {
    "pending": ("未到期", "Upcoming"),
    "paid": ("已还清", "Paid"),
    "cancelled": ("已取消", "Cancelled"),
}


def days_overdue(status: str, due_date: date, closed_through: date) -> int:
    """Days an unpaid installment is past due: 0 for anything not `due`, or not yet closed on its due date."""
    if status != "due":
        return 0
    return days_past_due(closed_through, due_date)


def installment_label(status: str, due_date: date, closed_through: date, lang: str) -> str:
    """逾期 N 天 for an unpaid row whose due date is closed; 到期未还 on its due date before the close
    (an early repayment makes the day's installment due at once); else the plain status."""
    if status == "due":
        n = days_overdue(status, due_date, closed_through)
        if n > 0:
            return f"逾期 {n} 天" if lang == "zh" else f"{n} day{'s' if n != 1 else ''} overdue"
        return "到期未还" if lang == "zh" else "Due, unpaid"
    zh, en = _PLAIN.get(status, (status, status))
    return zh if lang == "zh" else en


def bucket_label(bucket: str, lang: str) -> str:
    zh, en = BUCKET_LABELS.get(bucket, (bucket, bucket))
    return zh if lang == "zh" else en
