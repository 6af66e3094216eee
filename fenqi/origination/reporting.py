"""Read-only selectables for reporting (analytics): applications without personal data, with stable
column names, so that the funnel and the product table aggregate in SQL without origination's tables."""

from __future__ import annotations

from sqlalchemy import Subquery, select

from fenqi.catalog.reporting import training_merchants
from fenqi.origination.models import Application


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
