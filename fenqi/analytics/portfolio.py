"""Portfolio quality read from the daily loan snapshot (`loan_day_balance`, written by close-of-business),
never by rescanning the journal: vintage curves, month-to-month roll rates between buckets, cure rates,
losses and recoveries, and expected loss by bucket.

A loan's state at the end of a month is its last snapshot row in that month: the month-end row of a
loan still open, or the row of the day it closed (paid off, cancelled) or was written off. States are
buckets of days past due — current, 1-29, 30-59, 60-89, 90+ — and the two closed states. Every figure
is one grouped query; Python only arranges the grouped rows.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Integer, Subquery, and_, case, cast, extract, func, select, union_all
from sqlalchemy.orm import Session

from fenqi.kit.errors import InvalidInput
from fenqi.kit.settings import get_settings
from fenqi.pricing import reporting as pricing_rep
from fenqi.servicing import reporting as servicing_rep

STATES: tuple[str, ...] = ("current", "d1_29", "d30_59", "d60_89", "d90p", "written_off", "closed")
OPEN_STATES: tuple[str, ...] = STATES[:5]
DELINQUENT: tuple[str, ...] = STATES[1:5]
BAD_OPEN: tuple[str, ...] = ("d30_59", "d60_89", "d90p")
STATE_LABELS: dict[str, tuple[str, str]] = {
    "current": ("正常", "Current"), "d1_29": ("逾期1-29天", "1-29 days past due"),
    "d30_59": ("逾期30-59天", "30-59 days past due"), "d60_89": ("逾期60-89天", "60-89 days past due"),
    "d90p": ("逾期90天以上", "90+ days past due"), "written_off": ("已核销", "Written off"),
    "closed": ("已结清/取消", "Closed"),
}
# Share of the principal outstanding in each bucket expected to be lost (settable per request).
DEFAULT_PROVISION_RATES: dict[str, Decimal] = {
    "current": Decimal("0.01"), "d1_29": Decimal("0.10"), "d30_59": Decimal("0.30"), "d60_89": Decimal("0.50"),
    "d90p": Decimal("1.00"),
}
RATE_PLACES = Decimal("0.0001")


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole to four places, half up; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, ROUND_HALF_UP)


def month_index(column: Any) -> ColumnElement[int]:
    """A date's month as one integer (year × 12 + month − 1), the same on SQLite and PostgreSQL."""
    return cast(extract("year", column), Integer) * 12 + cast(extract("month", column), Integer) - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class InvalidMonth(InvalidInput):
    zh = "月份格式应为 2026-03 这样的年-月（{detail}）"
    en = "A month must look like 2026-03 ({detail})"


def parse_month(text: str) -> int:
    """"2026-03" → its month index; a clear error otherwise."""
    try:
        year, month = (int(part) for part in text.split("-"))
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError(text)
    except ValueError:
        raise InvalidMonth(text[:20]) from None
    return year * 12 + month - 1


def state_of(status: Any, dpd: Any) -> ColumnElement[str]:
    return case(
        (status == servicing_rep.WRITTEN_OFF, "written_off"),
        (status.not_in(servicing_rep.OPEN_STATUSES), "closed"),
        (dpd <= 0, "current"), (dpd < 30, "d1_29"), (dpd < 60, "d30_59"), (dpd < 90, "d60_89"),
        else_="d90p",
    )


def month_ends(session: Session) -> list[date]:
    """The last snapshot date of each month the snapshot covers: one indexed look-up per month."""
    b = servicing_rep.day_balances()
    first, last = session.execute(select(func.min(b.c.business_date), func.max(b.c.business_date))).one()
    if first is None:
        return []
    ends = []
    for index in range(first.year * 12 + first.month - 1, last.year * 12 + last.month):
        year, month = divmod(index, 12)
        start = date(year, month + 1, 1)
        end = date(year, month + 1, calendar.monthrange(year, month + 1)[1])
        found = session.scalar(select(func.max(b.c.business_date))
                               .where(b.c.business_date >= start, b.c.business_date <= end))
        if found is not None:
            ends.append(found)
    return ends


def month_rows(name: str, ends: list[date]) -> Subquery:
    """(loan_id, month, state, principal_fen): each loan's last snapshot row of each month it was seen —
    its row on the month's last snapshot date, or the row of the day it closed (a closed loan has no
    later row). Read by the snapshot's key (date, loan), not by scanning every day."""
    at_end = servicing_rep.day_balances(f"{name}_end")
    on_ends = select(at_end.c.loan_id, month_index(at_end.c.business_date).label("month"),
                     state_of(at_end.c.status, at_end.c.dpd).label("state"), at_end.c.principal_fen
                     ).where(at_end.c.business_date.in_(ends))
    closing, loans = servicing_rep.day_balances(f"{name}_closing"), servicing_rep.loans(f"{name}_loans")
    on_close = (
        select(closing.c.loan_id, month_index(closing.c.business_date).label("month"),
               state_of(closing.c.status, closing.c.dpd).label("state"), closing.c.principal_fen)
        .join(loans, and_(loans.c.loan_id == closing.c.loan_id, loans.c.closed_on == closing.c.business_date))
        .where(closing.c.business_date.not_in(ends))
    )
    return union_all(on_ends, on_close).subquery(name)


def latest_snapshot(session: Session) -> date | None:
    b = servicing_rep.day_balances()
    return session.scalar(select(func.max(b.c.business_date)))


def last_complete_month(day: date) -> int:
    """The last month whose end the snapshot has seen: the latest day's month if it is the month's last day."""
    index = day.year * 12 + day.month - 1
    return index if day.day == calendar.monthrange(day.year, day.month)[1] else index - 1


# --- vintages -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vintage:
    """Loans booked in one month on one product, and how many were bad (30+ days past due, or written off
    by then) at the end of each month on book (index 0: the booking month's end)."""

    month: str
    product_code: str
    name_zh: str
    name_en: str
    loans: int
    financed_fen: int
    bad: tuple[int, ...]

    @property
    def shares(self) -> tuple[Decimal | None, ...]:
        return tuple(rate(b, self.loans) for b in self.bad)


def vintages(session: Session) -> list[Vintage]:
    """Vintage curves per booking month and product, up to the latest snapshot's month."""
    latest = latest_snapshot(session)
    if latest is None:
        return []
    last = latest.year * 12 + latest.month - 1
    loans, products = servicing_rep.loans("v_loans"), pricing_rep.products()
    booked = month_index(loans.c.booked_on)
    cohorts = session.execute(
        select(booked, products.c.code, products.c.name_zh, products.c.name_en, func.count(),
               func.coalesce(func.sum(loans.c.financed_fen), 0))
        .join(products, products.c.product_id == loans.c.product_id)
        .where(booked <= last)
        .group_by(booked, products.c.code, products.c.name_zh, products.c.name_en)
    ).all()
    rows = month_rows("v_months", month_ends(session))
    mob = (rows.c.month - booked).label("mob")
    counted = session.execute(
        select(booked, products.c.code, mob, rows.c.state, func.count())
        .join(loans, loans.c.loan_id == rows.c.loan_id)
        .join(products, products.c.product_id == loans.c.product_id)
        .where(rows.c.state.in_((*BAD_OPEN, "written_off")))
        .group_by(booked, products.c.code, mob, rows.c.state)
    ).all()
    open_bad: dict[tuple[int, str, int], int] = {}
    written: dict[tuple[int, str, int], int] = {}
    for month, code, k, state, n in counted:
        target = written if state == "written_off" else open_bad
        target[(int(month), code, int(k))] = target.get((int(month), code, int(k)), 0) + int(n)
    out = []
    for month, code, zh, en, n, financed in sorted(cohorts, key=lambda r: (r[0], r[1])):
        month = int(month)
        bad, gone = [], 0
        for k in range(last - month + 1):
            gone += written.get((month, code, k), 0)  # a written-off loan stays bad in later months
            bad.append(open_bad.get((month, code, k), 0) + gone)
        out.append(Vintage(month_label(month), code, zh, en, int(n), int(financed), tuple(bad)))
    return out


# --- roll rates and cures -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RollRow:
    """Loans in `state` at one month's end, and where they were at the next month's end."""

    state: str
    loans: int
    to: dict[str, int]

    @property
    def rates(self) -> dict[str, Decimal | None]:
        return {s: rate(self.to.get(s, 0), self.loans) for s in STATES}

    @property
    def cured(self) -> int:
        """Back to current or closed (paid off) by the next month's end."""
        return self.to.get("current", 0) + self.to.get("closed", 0)

    @property
    def cure_rate(self) -> Decimal | None:
        return rate(self.cured, self.loans) if self.state in DELINQUENT else None


@dataclass(frozen=True, slots=True)
class RollMatrix:
    first: str | None  # the first and last "from" month counted
    last: str | None
    rows: list[RollRow]


def roll_rates(session: Session, *, start: str | None = None, end: str | None = None) -> RollMatrix:
    """Month-to-month transitions of every loan open at a month's end, summed over the "from" months in
    [start, end] (default: every complete pair the snapshot holds)."""
    latest = latest_snapshot(session)
    if latest is None:
        return RollMatrix(None, None, [RollRow(s, 0, {}) for s in OPEN_STATES])
    hi = last_complete_month(latest) - 1  # the next month's end must have been seen
    if end is not None:
        hi = min(hi, parse_month(end))
    lo = parse_month(start) if start is not None else None
    ends = month_ends(session)
    a, b = month_rows("r_from", ends), month_rows("r_to", ends)
    query = (
        select(a.c.state, b.c.state, func.count())
        .join(b, and_(b.c.loan_id == a.c.loan_id, b.c.month == a.c.month + 1))
        .where(a.c.state.in_(OPEN_STATES), a.c.month <= hi)
        .group_by(a.c.state, b.c.state)
    )
    if lo is not None:
        query = query.where(a.c.month >= lo)
    found: dict[str, dict[str, int]] = {}
    for src, dst, n in session.execute(query).all():
        found.setdefault(src, {})[dst] = int(n)
    first = month_label(lo) if lo is not None else None
    rows = [RollRow(s, sum(found.get(s, {}).values()), found.get(s, {})) for s in OPEN_STATES]
    return RollMatrix(first, month_label(hi), rows)


# --- losses and recoveries ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LossMonth:
    month: str
    written_off_loans: int
    written_off_fen: int
    recovered_fen: int


def losses(session: Session) -> list[LossMonth]:
    """Per month: loans written off and the amount (their snapshot row of the write-off day), and money
    recovered on written-off loans."""
    s, loans = servicing_rep.day_balances(), servicing_rep.loans()
    month = month_index(s.c.business_date)
    lost = session.execute(
        select(month, func.count(), func.coalesce(func.sum(s.c.written_off_fen), 0))
        .join(loans, and_(loans.c.loan_id == s.c.loan_id, loans.c.closed_on == s.c.business_date))
        .where(s.c.status == servicing_rep.WRITTEN_OFF).group_by(month)
    ).all()
    r = servicing_rep.recoveries()
    rmonth = month_index(r.c.business_date)
    back = {m: v for m, v in session.execute(select(rmonth, func.sum(r.c.recovery_fen)).group_by(rmonth)).all()}
    by_month = {int(m): (int(n), int(f)) for m, n, f in lost}
    months = sorted(set(by_month) | {int(m) for m in back})
    return [LossMonth(month_label(m), by_month.get(m, (0, 0))[0], by_month.get(m, (0, 0))[1], int(back.get(m, 0)))
            for m in months]


# --- expected loss --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpectedLoss:
    state: str
    loans: int
    principal_fen: int
    provision_rate: Decimal
    expected_loss_fen: int


class UnknownBucket(InvalidInput):
    zh = "未知的逾期档（{detail}）"
    en = "Unknown delinquency bucket: {detail}"


class InvalidProvisionRate(InvalidInput):
    zh = "计提比例应为 0 到 1 之间的小数（{detail}）"
    en = "A provision rate must be a decimal between 0 and 1 ({detail})"


def provision_rates(overrides: Mapping[str, Any] | None = None) -> dict[str, Decimal]:
    """The provision rates: the defaults, then the settings' (`FENQI_PROVISION_RATES`), then `overrides`
    (each between 0 and 1)."""
    rates = dict(DEFAULT_PROVISION_RATES)
    for key, value in {**get_settings().provision_rates, **(overrides or {})}.items():
        if key not in rates:
            raise UnknownBucket(str(key)[:20])
        try:
            parsed = Decimal(str(value))
        except ArithmeticError:
            raise InvalidProvisionRate(key) from None
        if not (parsed.is_finite() and Decimal(0) <= parsed <= Decimal(1)):
            raise InvalidProvisionRate(key)
        rates[key] = parsed
    return rates


def expected_loss(session: Session, *, on: date | None = None, rates: Mapping[str, Decimal] | None = None
                  ) -> tuple[date | None, list[ExpectedLoss]]:
    """Open loans at the end of `on` (default: the latest snapshot) by bucket: principal outstanding × the
    bucket's provision rate, rounded half up to the fen per bucket."""
    use = dict(rates) if rates is not None else provision_rates()
    day = on or latest_snapshot(session)
    found: dict[str, tuple[int, int]] = {}
    if day is not None:
        s = servicing_rep.day_balances()
        state = state_of(s.c.status, s.c.dpd)
        found = {st: (int(n), int(p)) for st, n, p in session.execute(
            select(state, func.count(), func.coalesce(func.sum(s.c.principal_fen), 0))
            .where(s.c.business_date == day, s.c.status.in_(servicing_rep.OPEN_STATUSES)).group_by(state)
        ).all()}
    out = []
    for st in OPEN_STATES:
        n, principal = found.get(st, (0, 0))
        el = int((Decimal(principal) * use[st]).quantize(Decimal(1), ROUND_HALF_UP))
        out.append(ExpectedLoss(st, n, principal, use[st], el))
    return day, out
