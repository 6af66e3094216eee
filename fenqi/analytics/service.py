"""The figures behind the dashboards and the merchant console's sales pages.

Analytics only reads. It aggregates other domains' tables in SQL (one query per figure, grouped in the
database) rather than loading rows through their services: reporting over hundreds of thousands of
loans must not pull them into Python. Money stays integer fen; rates are Decimal.

Every figure can be restricted to one merchant (the merchant console shows only its own business).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from fenqi.catalog.reporting import training_merchants
from fenqi.ledger.snapshot import account_history
from fenqi.origination.models import Application
from fenqi.pricing.models import Product
from fenqi.servicing.models import Loan, LoanStatus
from fenqi.servicing.rules import DEFAULT_BUCKETS

BUCKETS: tuple[str, ...] = tuple(name for _, name in DEFAULT_BUCKETS)
APPROVED_STATUSES = ("approved", "signed")


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


def _merchant(column: Any, merchant_id: int | None) -> list[ColumnElement[bool]]:
    """One merchant's rows; or every merchant's but the training merchants' practice (培训模式)."""
    return [column.not_in(training_merchants())] if merchant_id is None else [column == merchant_id]


def sales_per_day(session: Session, *, start: date, end: date, merchant_id: int | None = None) -> list[DaySales]:
    """Loans booked per business date (every day in the range, zero when nothing was sold)."""
    rows = session.execute(
        select(Loan.booked_on, func.count(), func.coalesce(func.sum(Loan.price_fen), 0),
               func.coalesce(func.sum(Loan.financed_fen), 0))
        .where(Loan.booked_on >= start, Loan.booked_on <= end, *_merchant(Loan.merchant_id, merchant_id))
        .group_by(Loan.booked_on)
    ).all()
    by_day = {r[0]: DaySales(r[0], int(r[1]), int(r[2]), int(r[3])) for r in rows}
    return [by_day.get(d, DaySales(d, 0, 0, 0)) for d in _days(start, end)]


def approval_per_day(session: Session, *, start: date, end: date, merchant_id: int | None = None
                     ) -> list[DayApproval]:
    """Applications per business date of submission and how they were decided (after manual review)."""
    approved = case((Application.outcome == "approve", 1), (Application.status.in_(APPROVED_STATUSES), 1), else_=0)
    rows = session.execute(
        select(Application.business_date, func.count(), func.sum(approved),
               func.sum(case((Application.status == "declined", 1), else_=0)),
               func.sum(case((Application.status == "referred", 1), else_=0)))
        .where(Application.business_date >= start, Application.business_date <= end,
               *_merchant(Application.merchant_id, merchant_id))
        .group_by(Application.business_date)
    ).all()
    by_day = {r[0]: DayApproval(r[0], int(r[1]), int(r[2] or 0), int(r[3] or 0), int(r[4] or 0)) for r in rows}
    return [by_day.get(d, DayApproval(d, 0, 0, 0, 0)) for d in _days(start, end)]


def approval_rate(days: list[DayApproval]) -> Decimal | None:
    """The approval rate over a period (not the mean of the daily rates)."""
    return DayApproval(date.min, sum(d.applications for d in days), sum(d.approved for d in days),
                       sum(d.declined for d in days), sum(d.referred for d in days)).rate


def plan_mix(session: Session, *, merchant_id: int | None = None, since: date | None = None) -> list[PlanShare]:
    """Loans by product and term, most sold first."""
    query = (
        select(Product.code, Product.name_zh, Product.name_en, Loan.method, Loan.term, func.count(),
               func.coalesce(func.sum(Loan.financed_fen), 0))
        .join(Product, Product.id == Loan.product_id)
        .where(*_merchant(Loan.merchant_id, merchant_id))
        .group_by(Product.code, Product.name_zh, Product.name_en, Loan.method, Loan.term)
    )
    if since is not None:
        query = query.where(Loan.booked_on >= since)
    rows = session.execute(query).all()
    shares = [PlanShare(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6])) for r in rows]
    return sorted(shares, key=lambda s: (-s.loans, s.product_code, s.term))


def delinquency_buckets(session: Session, *, merchant_id: int | None = None) -> list[BucketFigure]:
    """Open loans (active and overdue) by delinquency bucket: count and principal outstanding."""
    rows = session.execute(
        select(Loan.bucket, func.count(), func.coalesce(func.sum(Loan.principal_outstanding_fen), 0))
        .where(Loan.status.in_(LoanStatus.OPEN), *_merchant(Loan.merchant_id, merchant_id))
        .group_by(Loan.bucket)
    ).all()
    found = {r[0]: BucketFigure(r[0], int(r[1]), int(r[2])) for r in rows}
    order = list(BUCKETS) + sorted(b for b in found if b not in BUCKETS)
    return [found.get(b, BucketFigure(b, 0, 0)) for b in order]


def loans_by_status(session: Session, *, merchant_id: int | None = None) -> dict[str, int]:
    rows = session.execute(
        select(Loan.status, func.count()).where(*_merchant(Loan.merchant_id, merchant_id)).group_by(Loan.status)
    ).all()
    found = {str(r[0]): int(r[1]) for r in rows}
    states = (LoanStatus.ACTIVE, LoanStatus.OVERDUE, LoanStatus.PAID_OFF, LoanStatus.CANCELLED, LoanStatus.WRITTEN_OFF)
    return {s: found.get(s, 0) for s in states}


def outstanding_per_day(session: Session, *, start: date, end: date) -> list[tuple[date, int]]:
    """Principal outstanding at the end of each business date, from the ledger (principal_receivable):
    closed days from the daily account snapshot, the open day from its journal lines. Not split by
    merchant: the ledger is the book."""
    return account_history(session, "principal_receivable", start=start, end=end)


def outstanding_now(session: Session, *, merchant_id: int | None = None) -> tuple[int, int]:
    """(open loans, principal outstanding fen)."""
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(Loan.principal_outstanding_fen), 0))
        .where(Loan.status.in_(LoanStatus.OPEN), *_merchant(Loan.merchant_id, merchant_id))
    ).one()
    return int(row[0]), int(row[1])


FUNNEL = (
    ("submitted", "提交申请", "Applied"),
    ("approved", "审批通过", "Approved"),
    ("signed", "签约", "Signed"),
    ("paid", "首付已付", "Down payment paid"),
)


def funnel(session: Session, *, start: date, end: date, merchant_id: int | None = None) -> list[FunnelStep]:
    """From application to paid down payment, for applications submitted in the period."""
    row = session.execute(
        select(
            func.count(),
            func.sum(case((Application.outcome == "approve", 1), (Application.status.in_(APPROVED_STATUSES), 1),
                          else_=0)),
            func.sum(case((Application.status == "signed", 1), else_=0)),
            func.sum(case((Application.status == "signed", case((Application.down_payment_paid.is_(True), 1),
                                                                 (Application.down_payment_fen == 0, 1), else_=0)),
                          else_=0)),
        ).where(Application.business_date >= start, Application.business_date <= end,
                *_merchant(Application.merchant_id, merchant_id))
    ).one()
    counts = [int(v or 0) for v in row]
    return [FunnelStep(key, zh, en, n) for (key, zh, en), n in zip(FUNNEL, counts, strict=True)]
