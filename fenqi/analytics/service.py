"""The figures behind the dashboards and the merchant console's sales pages.

Analytics only reads. Each figure is one query grouped in the database, asked of the domain that owns the
rows (`servicing.reporting`, `origination.reporting`: plain rows back), rather than rows loaded through their
services: reporting over hundreds of thousands of loans must not pull them into Python. Analytics fills in
the empty days and orders; the plan mix names its products in one more query (`pricing.reporting`). Money
stays integer fen; rates are Decimal.

Every figure can be restricted to one merchant (the merchant console shows only its own business).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from fenqi.ledger.snapshot import account_history
from fenqi.origination import reporting as origination_rep
from fenqi.pricing import reporting as pricing_rep
from fenqi.servicing import reporting as servicing_rep
from fenqi.servicing.rules import DEFAULT_BUCKETS

BUCKETS: tuple[str, ...] = tuple(name for _, name in DEFAULT_BUCKETS)


@dataclass(frozen=True, slots=True)
class DaySales:
    day: date
    loans: int
    price_fen: int
    financed_fen: int


@dataclass(frozen=True, slots=True)
class DayApproval:
    day: date
    applications: int
    approved: int
    declined: int
    referred: int

    @property
    def rate(self) -> Decimal | None:
        """Approved over decided (approved + declined); None on a day without a decision."""
        decided = self.approved + self.declined
        if not decided:
            return None
        return (Decimal(self.approved) / decided).quantize(Decimal("0.0001"), ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class PlanShare:
    product_code: str
    name_zh: str
    name_en: str
    method: str
    term: int
    loans: int
    financed_fen: int


@dataclass(frozen=True, slots=True)
class BucketFigure:
    bucket: str
    loans: int
    principal_fen: int


@dataclass(frozen=True, slots=True)
class FunnelStep:
    step: str
    zh: str
    en: str
    count: int


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def sales_per_day(session: Session, *, start: date, end: date, merchant_id: int | None = None) -> list[DaySales]:
    """Loans booked per business date (every day in the range, zero when nothing was sold)."""
    rows = servicing_rep.loans_booked_per_day(session, start=start, end=end, merchant_id=merchant_id)
    by_day = {r.day: DaySales(r.day, r.loans, r.price_fen, r.financed_fen) for r in rows}
    return [by_day.get(d, DaySales(d, 0, 0, 0)) for d in _days(start, end)]


def approval_per_day(session: Session, *, start: date, end: date, merchant_id: int | None = None
                     ) -> list[DayApproval]:
    """Applications per business date of submission and how they were decided (after manual review)."""
    rows = origination_rep.applications_per_day(session, start=start, end=end, merchant_id=merchant_id)
    by_day = {r.day: DayApproval(r.day, r.applications, r.approved, r.declined, r.referred) for r in rows}
    return [by_day.get(d, DayApproval(d, 0, 0, 0, 0)) for d in _days(start, end)]


def approval_rate(days: list[DayApproval]) -> Decimal | None:
    """The approval rate over a period (not the mean of the daily rates)."""
    return DayApproval(date.min, sum(d.applications for d in days), sum(d.approved for d in days),
                       sum(d.declined for d in days), sum(d.referred for d in days)).rate


def plan_mix(session: Session, *, merchant_id: int | None = None, since: date | None = None) -> list[PlanShare]:
    """Loans by product and term, most sold first. Servicing groups the loans by product id (a product's
    code is unique, so that is grouping by product), pricing names the products in one query."""
    rows = servicing_rep.loans_by_plan(session, merchant_id=merchant_id, since=since)
    names = pricing_rep.product_names_by_id(session, {r.product_id for r in rows})
    shares = [PlanShare(name.code, name.name_zh, name.name_en, r.method, r.term, r.loans, r.financed_fen)
              for r in rows if (name := names.get(r.product_id)) is not None]  # a join: unnamed ids left out
    return sorted(shares, key=lambda s: (-s.loans, s.product_code, s.term))


def delinquency_buckets(session: Session, *, merchant_id: int | None = None) -> list[BucketFigure]:
    """Open loans (active and overdue) by delinquency bucket: count and principal outstanding."""
    rows = servicing_rep.open_loans_by_bucket(session, merchant_id=merchant_id)
    found = {r.bucket: BucketFigure(r.bucket, r.loans, r.principal_fen) for r in rows}
    order = list(BUCKETS) + sorted(b for b in found if b not in BUCKETS)
    return [found.get(b, BucketFigure(b, 0, 0)) for b in order]


def loans_by_status(session: Session, *, merchant_id: int | None = None) -> dict[str, int]:
    found = servicing_rep.loans_per_status(session, merchant_id=merchant_id)
    return {s: found.get(s, 0) for s in servicing_rep.LOAN_STATUSES}


def outstanding_per_day(session: Session, *, start: date, end: date) -> list[tuple[date, int]]:
    """Principal outstanding at the end of each business date, from the ledger (principal_receivable):
    closed days from the daily account snapshot, the open day from its journal lines. Not split by
    merchant: the ledger is the book."""
    return account_history(session, "principal_receivable", start=start, end=end)


def outstanding_now(session: Session, *, merchant_id: int | None = None) -> tuple[int, int]:
    """(open loans, principal outstanding fen)."""
    return servicing_rep.open_loans_outstanding(session, merchant_id=merchant_id)


FUNNEL = (
    ("submitted", "提交申请", "Applied"),
    ("approved", "审批通过", "Approved"),
    ("signed", "签约", "Signed"),
    ("paid", "首付已付", "Down payment paid"),
)


def funnel(session: Session, *, start: date, end: date, merchant_id: int | None = None) -> list[FunnelStep]:
    """From application to paid down payment, for applications submitted in the period."""
    counts = origination_rep.application_funnel(session, start=start, end=end, merchant_id=merchant_id)
    return [FunnelStep(key, zh, en, n) for (key, zh, en), n in zip(FUNNEL, counts, strict=True)]
