"""The operations console over HTTP: the review queue, loan search and detail, notes, the audited
reveal of an ID number, overdue buckets after close-of-business, dashboards, reconciliation, products
and funders; static assets served locally."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.identity.models import AuditEntry
from fenqi.origination.models import Application
from fenqi.servicing.models import Loan
from tests.origination.world import World, clean_id_number
from tests.web_console.conftest import csrf_of, post_form, till_form
from tests.web_console.helpers import sell

SignIn = Callable[..., TestClient]


def test_risk_officer_approves_a_referred_application(sign_in: SignIn, world: World, session: Session) -> None:
    clerk = sign_in("clerk", world.merchant_id)
    r = post_form(clerk, "/merchant/till", "/merchant/till", till_form(world, monthly_income="1100.00"))
    app = session.get(Application, int(r.headers["location"].rsplit("/", 1)[1]))
    assert app is not None and app.status == "referred"
    assert 'id="waiting"' in clerk.get(f"/merchant/applications/{app.id}").text
    officer = sign_in("risk_officer")
    queue = officer.get("/ops/reviews").text
    assert f'id="case-{app.decision_id}"' in queue and "张*" in queue and "张三丰" not in queue
    # A verdict needs a note; the refusal is shown and nothing changes.
    r = officer.post(f"/ops/reviews/{app.decision_id}", data={"csrf_token": csrf_of(queue), "verdict": "approve",
                                                               "note": " "})
    assert 'role="alert"' in r.text
    session.refresh(app)
    assert app.status == "referred"
    r = officer.post(f"/ops/reviews/{app.decision_id}", follow_redirects=False, data={
        "csrf_token": csrf_of(queue), "verdict": "approve", "note": "工资流水核实"})
    assert r.status_code == 303
    session.refresh(app)
    assert app.status == "approved" and app.funder_code is not None
    assert f'id="case-{app.decision_id}"' not in officer.get("/ops/reviews").text
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "risk.review.approved")) is not None


def test_loan_search_detail_notes_and_audited_reveal(sign_in: SignIn, world: World, session: Session) -> None:
    app = sell(session, world)
    number = clean_id_number(date(1990, 3, 7))
    officer = sign_in("risk_officer")
    token = csrf_of(officer.get("/ops/loans").text)

    def search(q: str) -> Any:
        return officer.post("/ops/loans", data={"csrf_token": token, "q": q})

    found = search(number).text
    assert f'href="/ops/loans/{app.loan_id}"' in found and number not in found
    assert f'href="/ops/loans/{app.loan_id}"' in search("13812345678").text
    assert "13812345678" not in search("13812345678").text
    assert f'href="/ops/loans/{app.loan_id}"' not in search("13812345679").text
    assert f'href="/ops/loans/{app.loan_id}"' in search(str(app.loan_id)).text
    assert f'href="/ops/loans/{app.loan_id}"' in search(f"#{app.id}").text  # by the application's number
    assert search("张三").status_code == 400  # no search by partial personal data
    detail = officer.get(f"/ops/loans/{app.loan_id}").text
    assert number not in detail and number[:4] + "*" in detail
    assert "放款入账" in detail and "放款" in detail and "首付" in detail  # ledger entries, by their Chinese names
    assert detail.count("<tr><td>") >= 12  # the 12-month schedule
    r = officer.post(f"/ops/loans/{app.loan_id}/notes", data={"csrf_token": csrf_of(detail), "body": "已电话确认"},
                     follow_redirects=False)
    assert r.status_code == 303 and "已电话确认" in officer.get(f"/ops/loans/{app.loan_id}").text
    # Revealing needs a reason and leaves an audit entry; the number is on that response only.
    assert officer.post(f"/ops/loans/{app.loan_id}/reveal", data={"csrf_token": csrf_of(detail)}).status_code == 400
    shown = officer.post(f"/ops/loans/{app.loan_id}/reveal", data={"csrf_token": csrf_of(detail),
                                                                   "reason": "客户来电核身"})
    assert shown.status_code == 200 and f'id="id-number">{number}<' in shown.text
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "id_number.revealed"))
    assert entry is not None and entry.subject == f"loan:{app.loan_id}" and number not in entry.detail
    assert number not in officer.get(f"/ops/loans/{app.loan_id}").text
    collector = sign_in("collector")
    page = collector.get(f"/ops/loans/{app.loan_id}").text
    assert 'id="reveal"' not in page
    assert collector.post(f"/ops/loans/{app.loan_id}/reveal", data={"csrf_token": csrf_of(page),
                                                                    "reason": "x"}).status_code == 403


def test_overdue_buckets_and_dashboard_after_close_of_business(
    sign_in: SignIn, world: World, session: Session
) -> None:
    from fenqi.servicing.cob_runs import close_day

    paying = sell(session, world)
    late = sell(session, world, imei=world.devices[1], id_number=clean_id_number(date(1985, 6, 1)),
                phone="13912345678")
    day = date(2026, 11, 28)
    while day < date(2027, 1, 8):  # past the first due date (28 Dec) and the grace days
        if day == date(2026, 12, 28):
            from fenqi.demo.history import pay_order  # noqa: F401  (the paying shopper pays on time)
            from fenqi.servicing.service import apply_repayment, installments

            first = installments(session, paying.loan_id)[0]
            apply_repayment(session, loan_id=paying.loan_id, amount_fen=first.principal_fen + first.interest_fen,
                            payment_ref="T-pay-1", channel="alipay")
        session.flush()
        close_day(session.connection(), day)
        session.expire_all()
        day += timedelta(days=1)
    assert session.get(Loan, late.loan_id).status == "overdue"  # type: ignore[union-attr]
    assert session.get(Loan, paying.loan_id).status == "active"  # type: ignore[union-attr]
    collector = sign_in("collector")
    overdue = collector.get("/ops/overdue").text
    assert f'href="/ops/loans/{late.loan_id}"' in overdue and f'href="/ops/loans/{paying.loan_id}"' not in overdue
    assert 'id="bucket-M1"' in overdue
    assert f'href="/ops/loans/{late.loan_id}"' not in collector.get("/ops/overdue?bucket=M2").text
    page = collector.get("/ops/dashboard?days=90&lang=en").text
    figures = chart_options(page)
    assert set(figures) == {"chart-sales", "chart-approval", "chart-mix", "chart-outstanding", "chart-buckets",
                            "chart-funnel"}
    assert sum(figures["chart-sales"]["series"][0]["data"]) == 2
    assert figures["chart-sales"]["xAxis"]["name"] == "Week of"  # 90 days by week, in English
    buckets = dict(zip(figures["chart-buckets"]["xAxis"]["data"],
                       [d["value"] for d in figures["chart-buckets"]["series"][0]["data"]], strict=True))
    assert buckets["Current"] == 1 and buckets["M1\n(1–30 days)"] == 1
    assert [s["value"] for s in figures["chart-funnel"]["series"][0]["data"]] == [2, 2, 2, 2]
    assert "/static/console/vendor/echarts.min.js" in page and "cdn" not in page.lower()
    # Chinese pages: Chinese axes, half a year by month (月份), amounts in 元 or 万元.
    zh = chart_options(collector.get("/ops/dashboard?days=180&lang=zh").text)
    assert zh["chart-sales"]["xAxis"]["name"] == "月份"
    months = zh["chart-sales"]["xAxis"]["data"]
    assert len(months) in (6, 7) and re.fullmatch(r"\d{1,2}月\d{1,2}日起|\d{4}年\d{1,2}月", months[0]), months
    assert all(re.fullmatch(r"(\d{4}年)?\d{1,2}月(至今)?", m) for m in months[1:]), months
    assert [a["name"] for a in zh["chart-sales"]["yAxis"]] == ["笔数", "销售额（元）"]
    assert zh["chart-buckets"]["xAxis"]["data"][1] == "M1\n（逾期1–30天）"


def chart_options(page: str) -> dict[str, Any]:
    """Each chart's ECharts option, by element id, as the page carries it."""
    return {m.group(1): json.loads(html.unescape(m.group(2)))
            for m in re.finditer(r'<div class="chart" id="([^"]+)" data-option="([^"]+)"', page)}


def test_reconciliation_items_are_approved_by_a_second_person_after_confirming(
    sign_in: SignIn, session: Session
) -> None:
    from fenqi.identity.service import create_user
    from fenqi.payments.models import ReconciliationItem, ReconciliationRun

    maker = create_user(session, role="finance", display_name="对账人")
    run = ReconciliationRun(channel="alipay", day=date(2026, 11, 27), lines=3, matched=2, discrepancies=1,
                            channel_total_fen=30_000, our_total_fen=20_000, run_by=maker.id)
    session.add(run)
    session.flush()
    items = [ReconciliationItem(run_id=run.id, category=category, kind="pay", out_trade_no=f"FQ_TEST_{n}",
                                channel_amount_fen=10_000, our_amount_fen=9_000, action="investigate_amount",
                                proposed_by=maker.id)
             for n, category in enumerate(["amount_mismatch", "amount_mismatch", "short"])]
    session.add_all(items)
    session.flush()
    first, second, third = items
    # Whoever ran it cannot approve it.
    from fenqi.identity.sessions import SESSION_COOKIE, start_session

    finance = sign_in("finance")
    finance.cookies.set(SESSION_COOKIE, start_session(session, maker))
    page = finance.get("/ops/reconciliation").text
    r = finance.post(f"/ops/reconciliation/items/{first.id}", data={
        "csrf_token": csrf_of(page), "verdict": "approve", "note": "自己批", "confirm": "yes"})
    assert "不能自己批准" in r.text
    session.refresh(first)
    assert first.action_status == "proposed"
    # A second person: approving first shows what it will do and asks to confirm; nothing happens yet.
    finance = sign_in("finance")
    page = finance.get("/ops/reconciliation").text
    assert f'id="item-{first.id}"' in page and "核查金额差异" in page
    r = finance.post(f"/ops/reconciliation/items/{first.id}", data={"csrf_token": csrf_of(page),
                                                                   "verdict": "approve", "note": "已调账"})
    assert r.status_code == 200 and 'id="confirm"' in r.text and "FQ_TEST_0" in r.text
    session.refresh(first)
    assert first.action_status == "proposed"
    r = finance.post("/ops/reconciliation/bulk", data={"csrf_token": csrf_of(r.text), "item_ids": [str(first.id)],
                                                       "verdict": "approve", "confirm": "yes", "note": "已调账"},
                     follow_redirects=False)
    assert r.status_code == 303
    session.refresh(first)
    assert first.action_status == "approved" and first.note == "已调账"
    # Filters, and the rest decided in bulk.
    shorts = finance.get("/ops/reconciliation?category=short&status=proposed").text
    assert f'id="item-{third.id}"' in shorts and f'id="item-{second.id}"' not in shorts
    r = finance.post("/ops/reconciliation/bulk", data={
        "csrf_token": csrf_of(shorts), "item_ids": [str(second.id), str(third.id)], "verdict": "reject",
        "note": "渠道已补单"}, follow_redirects=False)
    assert r.status_code == 303
    for item in (second, third):
        session.refresh(item)
        assert item.action_status == "rejected"
    assert sign_in("risk_officer").get("/ops/reconciliation").status_code == 403


def test_products_and_funders_configuration(sign_in: SignIn, world: World, session: Session) -> None:
    from fenqi.pricing.models import Product

    officer = sign_in("risk_officer")
    assert "EI-12" in officer.get("/ops/products").text and "FA" in officer.get("/ops/funders").text
    page = officer.get("/ops/products").text
    assert officer.post("/ops/products", data={"csrf_token": csrf_of(page), "code": "X"}).status_code == 403
    admin = sign_in("admin")
    page = admin.get("/ops/products").text
    r = admin.post("/ops/products", follow_redirects=False, data={
        "csrf_token": csrf_of(page), "code": "EI-9", "name_zh": "等额本息 年化9%", "name_en": "Equal installment 9%",
        "method": "equal-installment", "terms": "6, 12", "annual_rate": "0.09", "cost_bearer": "shopper"})
    assert r.status_code == 303
    assert session.scalar(select(Product).where(Product.code == "EI-9")) is not None
    r = admin.post("/ops/products", data={"csrf_token": csrf_of(page), "code": "EI-99", "name_zh": "高息",
                                          "name_en": "Too dear", "method": "equal-installment", "terms": "12",
                                          "annual_rate": "0.60"})
    assert r.status_code == 400 and 'role="alert"' in r.text  # above the APR cap
    admin.post("/ops/products/EI-9/active", data={"csrf_token": csrf_of(page), "active": "no"})
    assert session.scalar(select(Product.active).where(Product.code == "EI-9")) is False
    page = admin.get("/ops/funders").text
    r = admin.post("/ops/funders/policy", follow_redirects=False, data={
        "csrf_token": csrf_of(page), "strategy": "priority", "pilot_funder": "FB", "pilot_share": "0.2",
        "note": "测试"})
    assert r.status_code == 303 and "priority" in admin.get("/ops/funders").text
    r = admin.post("/ops/funders/policy", data={"csrf_token": csrf_of(page), "strategy": "cheapest"})
    assert 'role="alert"' in r.text


def test_static_assets_are_served_locally(client: TestClient) -> None:
    script = client.get("/static/console/vendor/echarts.min.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
    # The chart library is Apache ECharts, at most 1.5 MB, with its licence served next to it.
    assert 500_000 < len(script.content) <= 1_500_000 and b"echarts" in script.content[:5000].lower()
    assert b"Apache License" in client.get("/static/console/vendor/echarts-LICENSE.txt").content
    assert client.get("/static/console/plotly.min.js").status_code == 404
    assert client.get("/static/console/vendor/..%2Fcharts.js").status_code == 404
    assert client.get("/static/console/console.css").status_code == 200
    assert client.get("/static/console/charts.js").status_code == 200
    assert client.get("/static/console/nothing.js").status_code == 404
    assert client.get("/static/console/..%2Fconsole.py").status_code == 404
    assert client.get("/static/console/.hidden.css").status_code == 404


def test_ops_pages_render_for_their_roles_in_both_languages(sign_in: SignIn, world: World, session: Session) -> None:
    sell(session, world)
    pages = {"risk_officer": ["/ops", "/ops/dashboard", "/ops/reviews", "/ops/loans", "/ops/overdue",
                              "/ops/products", "/ops/funders"],
             "collector": ["/ops", "/ops/dashboard", "/ops/loans", "/ops/overdue"],
             "finance": ["/ops", "/ops/dashboard", "/ops/loans", "/ops/reconciliation", "/ops/products"]}
    for role, paths in pages.items():
        client = sign_in(role)
        for path in paths:
            zh = client.get(path + "?lang=zh")
            assert zh.status_code == 200, (role, path)
            assert "运营后台" in zh.text
            en = client.get(path + "?lang=en")
            assert en.status_code == 200 and "Operations" in en.text, (role, path)
            # Every form field has a label.
            for field in re.findall(r'<(?:input|select|textarea)(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', en.text):
                assert f'for="{field}"' in en.text, (path, field)


def test_loan_page_journal_shows_the_close_of_business_entries(
    sign_in: SignIn, world: World, session: Session
) -> None:
    """Accrual, due installments and penalties are posted by close-of-business in entries covering many
    loans (the entry names no loan; each line does): the loan page lists them, with this loan's lines only."""
    from fenqi.ledger import loan_journal
    from fenqi.servicing.cob_runs import close_day

    first = sell(session, world)
    other = sell(session, world, imei=world.devices[1], id_number=clean_id_number(date(1985, 6, 1)),
                 phone="13912345678")
    day = date(2026, 11, 28)
    while day <= date(2026, 12, 29):
        close_day(session.connection(), day)
        session.expire_all()
        day += timedelta(days=1)
    journal = loan_journal(session, first.loan_id)
    reasons = {e.reason for e, _ in journal}
    assert {"loan_booked", "down_payment", "interest_accrual", "installment_due"} <= reasons, reasons
    for entry, lines in journal:
        assert lines and all(line.loan_id in (first.loan_id, None) for line in lines), entry.reason
        if entry.loan_id != first.loan_id:  # a batch entry: no platform line summing other loans
            assert all(line.loan_id == first.loan_id for line in lines)
    assert not {e.id for e, _ in journal} & {e.id for e, _ in loan_journal(session, other.loan_id)
                                            if e.loan_id == other.loan_id}
    page = sign_in("risk_officer").get(f"/ops/loans/{first.loan_id}").text
    for reason in ("计提利息", "账单到期", "首付", "应收本金"):  # reasons and accounts by their Chinese names
        assert f"<td>{reason}</td>" in page
    assert "<td>interest_accrual</td>" not in page and "<td>principal_receivable</td>" not in page
    api = sign_in("finance").get(f"/api/v1/loans/{first.loan_id}?entries=1000").json()
    assert {e["reason"] for e in api["entries"]} == reasons


def test_products_page_states_each_products_real_apr(sign_in: SignIn, world: World, session: Session) -> None:
    """The APR column is what a shopper's quote states for ¥5,000 over the product's terms: a fee
    product's fee-derived APR, not its 0.00% nominal rate; an interest-free product 0.00%."""
    import re
    from datetime import date
    from decimal import Decimal

    from fenqi.kit.money import fmt_percent
    from fenqi.pricing.models import Product
    from fenqi.pricing.quote import QuoteRequest, quote
    from fenqi.pricing.schedule import Method

    page = sign_in("risk_officer").get("/ops/products").text
    shown = dict(re.findall(r'data-apr="([^"]+)">([^<]*)<', page))
    products = list(session.scalars(select(Product)))
    assert products and set(shown) == {p.code for p in products}
    for p in products:
        aprs = [quote(QuoteRequest(Decimal("5000.00"), Decimal(0), t, Method(p.method), p.annual_rate, p.fee_rate,
                                   date(2026, 1, 31)), Decimal(1)).apr for t in p.terms]
        low, high = fmt_percent(min(aprs)), fmt_percent(max(aprs))
        assert shown[p.code] == (low if low == high else f"{low} – {high}"), p.code
        if p.method == "flat-fee" and p.fee_rate > 0:
            assert not shown[p.code].startswith("0.00%"), p.code
        if p.method == "interest-free":
            assert shown[p.code] == "0.00%"
    english = sign_in("risk_officer").get("/ops/products?lang=en").text
    assert ">APR<" in english
