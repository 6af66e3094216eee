"""The dashboard figures (fenqi.analytics.service) and the demo history that feeds them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.analytics import service as analytics
from fenqi.origination.models import Application
from fenqi.servicing.models import Loan
from tests.origination.world import TODAY, World, build_world, clean_id_number
from tests.web_console.helpers import sell


def test_figures_of_two_sales_and_a_decline(session: Session, world: World) -> None:
    sell(session, world)
    sell(session, world, imei=world.devices[1], id_number=clean_id_number(date(1985, 6, 1)), phone="13912345678",
         product="IF-MERCHANT", term=6)
    from fenqi.origination import service
    from fenqi.origination.schemas import ApplicationIn
    from tests.web_console.helpers import clerk_principal

    student = ApplicationIn.model_validate(world.body(id_number=clean_id_number(date(2004, 1, 2)),
                                                      profile={"employment": "student", "monthly_income": "800.00"}))
    declined = service.submit(session, student, clerk_principal(session, world.merchant_id),
                              service.Origin("127.0.0.1", "test")).application
    assert declined.status == "declined"

    sales = analytics.sales_per_day(session, start=TODAY - timedelta(days=2), end=TODAY)
    assert [d.loans for d in sales] == [0, 0, 2] and sales[-1].price_fen == 2 * 599_900
    assert analytics.sales_per_day(session, start=TODAY, end=TODAY, merchant_id=world.other_merchant_id)[0].loans == 0
    approvals = analytics.approval_per_day(session, start=TODAY, end=TODAY)
    assert (approvals[0].applications, approvals[0].approved, approvals[0].declined) == (3, 2, 1)
    assert approvals[0].rate == Decimal("0.6667") and analytics.approval_rate(approvals) == Decimal("0.6667")
    mix = {(m.product_code, m.term): m.loans for m in analytics.plan_mix(session)}
    assert mix == {("EI-12", 12): 1, ("IF-MERCHANT", 6): 1}
    buckets = {b.bucket: b for b in analytics.delinquency_buckets(session)}
    assert list(buckets)[:5] == ["current", "M1", "M2", "M3", "M4+"]
    assert buckets["current"].loans == 2 and buckets["M1"].loans == 0
    open_loans, outstanding = analytics.outstanding_now(session)
    financed = session.scalar(select(func.sum(Loan.financed_fen)))
    assert open_loans == 2 and outstanding == financed
    # The ledger agrees with the loans: outstanding principal at the end of today.
    assert analytics.outstanding_per_day(session, start=TODAY, end=TODAY) == [(TODAY, financed)]
    assert [(s.step, s.count) for s in analytics.funnel(session, start=TODAY, end=TODAY)] == [
        ("submitted", 3), ("approved", 2), ("signed", 2), ("paid", 2)]


def test_demo_history_lives_through_the_real_services(session: Session) -> None:
    from fenqi.demo.history import build_history
    from fenqi.servicing.check import check_books

    build_world(session, suffix="H")
    report = build_history(session, days=45, per_day=1.6, seed=3, pending_days=5)
    assert report.applications > 40 and report.loans > 20
    assert sum(report.outcomes.values()) == report.applications
    loans = session.scalar(select(func.count()).select_from(Loan))
    assert loans == report.loans
    # Every loan came from a signed application, and the books reconcile with the loans.
    signed = session.scalar(select(func.count()).select_from(Application).where(Application.status == "signed"))
    assert signed == loans
    assert report.loan_status.get("active", 0) > 0
    assert check_books(session).to_json()["ok"] is True
    referred = session.scalar(select(func.count()).select_from(Application).where(Application.status == "referred"))
    assert referred == report.referred_pending
    assert "history:" in report.line()
    # Every night of the history wrote its snapshots, which the dashboards read: they agree with the ledger.
    from fenqi.ledger.models import AccountDayBalance
    from fenqi.ledger.snapshot import snapshot_differences
    from fenqi.servicing.models import LoanDayBalance

    days = sorted(session.scalars(select(AccountDayBalance.business_date).distinct()))
    assert len(days) >= 44  # every night but tonight
    last = days[-1]
    assert snapshot_differences(session, last) == {}
    principal = session.scalar(select(func.sum(LoanDayBalance.principal_fen))
                               .where(LoanDayBalance.business_date == last))
    assert analytics.outstanding_per_day(session, start=last, end=last) == [(last, principal)]
    # The funnel of the history starts with the plan menus the clerks showed, and every loan is in a vintage.
    from fenqi.analytics import funnel, portfolio

    (row,) = funnel.funnel(session, start=TODAY - timedelta(days=60), end=TODAY).rows
    assert row.counts["viewed"] is not None and row.counts["viewed"] > row.counts["applied"] == report.applications
    assert row.counts["signed"] == loans and row.median_seconds["decided"] is not None
    assert sum(v.loans for v in portfolio.vintages(session)) == loans
    assert row.median_seconds["applied"] is not None  # the clerk showed the menu minutes before applying
    # Promotions lived through their services: coupons sent, some redeemed at signing (their cost withheld
    # from the merchant's disbursement, and the books above still reconcile), share links opened and applied
    # through.
    from fenqi.promotions.models import Attribution, Coupon, ShareLink

    coupons = session.scalars(select(Coupon)).all()
    redeemed = [c for c in coupons if c.status == "redeemed"]
    assert redeemed and len(redeemed) < len(coupons) and all(c.loan_id and c.subsidy_fen > 0 for c in redeemed)
    attributed = session.scalar(select(func.count()).select_from(Attribution))
    assert attributed and session.scalar(select(func.sum(ShareLink.visits))) > attributed
    by_link = funnel.funnel(session, start=TODAY - timedelta(days=60), end=TODAY, dimension="share_link").rows
    assert sum(r.counts["applied"] or 0 for r in by_link if r.key) == attributed
    # The first merchant's interest-free plan sold inside its campaigns, each sale's subsidy from the budget.
    from fenqi.promotions.models import Campaign, CampaignSpend

    campaigns = {c.code: c for c in session.scalars(select(Campaign))}
    assert campaigns["DEMO-SPRING-IF"].spent_fen <= campaigns["DEMO-SPRING-IF"].budget_fen
    used = session.scalar(select(func.sum(CampaignSpend.subsidy_fen)).where(CampaignSpend.status == "used"))
    assert used and sum(c.sales for c in campaigns.values()) > 0
    by_campaign = funnel.funnel(session, start=TODAY - timedelta(days=60), end=TODAY, dimension="campaign").rows
    assert {r.key for r in by_campaign} >= {"", "DEMO-SPRING-IF", "DEMO-IF-ALWAYS"}
