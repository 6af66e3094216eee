"""Reporting's reads of the applications (analytics), so that the funnel, the product table and the
dashboards aggregate in SQL without origination's tables: a read-only selectable without personal data,
with stable column names, and the dashboards' figures as plain rows (one grouped query each, for one
merchant or every merchant but the training merchants)."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlalchemy import ColumnElement, Subquery, case, func, select
from sqlalchemy.orm import Session

from fenqi.catalog.reporting import merchant_scope, training_merchants
from fenqi.origination.models import Application

# An application counts as approved once risk said yes, or once it got past a manual review to approval.
APPROVED_STATUSES = ("approved", "signed")


def applications() -> Subquery:
    """One row per application: where, by whom (staff user id), what plan, how far it went. The first
    decision reason's code is `reason` (a decline's main reason)."""
    a = Application
    return select(
        a.id.label("application_id"), a.created_at, a.business_date, a.channel, a.merchant_id, a.store_id,
        a.created_by_user_id.label("clerk_user_id"), a.shopper_user_id, a.sku_code, a.price_fen, a.product_code,
        a.method, a.term,
        a.down_payment_fen, a.financed_fen, a.apr, a.status, a.outcome, a.decision_id,
        a.reasons[0]["code"].as_string().label("reason"),
        a.reasons[0]["zh"].as_string().label("reason_zh"), a.reasons[0]["en"].as_string().label("reason_en"),
        a.funder_rate, a.subsidy_fen, a.loan_id,
        a.down_payment_paid, a.signed_at,
    ).where(a.merchant_id.not_in(training_merchants())).subquery("rep_applications")  # no practice sales


class DayApplications(NamedTuple):
    day: date
    applications: int
    approved: int
    declined: int
    referred: int


class FunnelCounts(NamedTuple):
    submitted: int
    approved: int
    signed: int
    paid: int  # signed with the down payment paid (or none to pay)


def _approved() -> ColumnElement[int]:
    return case((Application.outcome == "approve", 1), (Application.status.in_(APPROVED_STATUSES), 1), else_=0)


def _submitted_between(start: date, end: date, merchant_id: int | None) -> list[ColumnElement[bool]]:
    return [Application.business_date >= start, Application.business_date <= end,
            *merchant_scope(Application.merchant_id, merchant_id)]


def applications_per_day(session: Session, *, start: date, end: date, merchant_id: int | None = None
                         ) -> list[DayApplications]:
    """Applications per business date of submission and how they were decided (after manual review): only
    the dates with an application, in no order."""
    rows = session.execute(
        select(Application.business_date, func.count(), func.sum(_approved()),
               func.sum(case((Application.status == "declined", 1), else_=0)),
               func.sum(case((Application.status == "referred", 1), else_=0)))
        .where(*_submitted_between(start, end, merchant_id))
        .group_by(Application.business_date)
    ).all()
    return [DayApplications(r[0], int(r[1]), int(r[2] or 0), int(r[3] or 0), int(r[4] or 0)) for r in rows]


def application_funnel(session: Session, *, start: date, end: date, merchant_id: int | None = None
                       ) -> FunnelCounts:
    """How far the applications submitted from start to end went: approved, signed, down payment paid."""
    signed = Application.status == "signed"
    paid = case((Application.down_payment_paid.is_(True), 1), (Application.down_payment_fen == 0, 1), else_=0)
    row = session.execute(
        select(func.count(), func.sum(_approved()), func.sum(case((signed, 1), else_=0)),
               func.sum(case((signed, paid), else_=0)))
        .where(*_submitted_between(start, end, merchant_id))
    ).one()
    return FunnelCounts(*(int(v or 0) for v in row))
