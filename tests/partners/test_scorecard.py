"""The scorecard as docs/partners.md states it: every measured indicator computed from known data (each value
worked out by hand), recorded indicators with source and date (the newest counts), per-business weights,
the ranking and how it moves when a weight moves by ±10%."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from fenqi.kit.db import utcnow
from fenqi.partners import scorecard
from fenqi.partners.errors import InvalidPartner
from fenqi.partners.scorecard import SHANGHAI, Card
from tests.origination.world import TODAY, build_world
from tests.partners.known_data import funder_data, payment_data, register
from tests.web_console.conftest import csrf_of

Headers = Callable[..., dict[str, str]]
D = Decimal
WINDOW = "2026-08-31 — 2026-11-28"


def build(session: Session) -> Card:
    world = build_world(session)
    register(session, "P-FA", "甲银行", "funder", funder_code="FA",
             terms={"early_repayment": "allowed", "partial_repayment": "not_allowed", "early_repayment_fee_pct": 1})
    register(session, "P-FB", "乙消费金融", "funder", funder_code="FB",
             terms={"early_repayment": "allowed", "partial_repayment": "allowed", "early_repayment_fee_pct": 0})
    register(session, "P-ALI", "支付宝", "payment_platform", channel="alipay", terms={"fee_rate": "0.006"})
    register(session, "P-WX", "微信支付", "payment_platform", channel="wechat", terms={"fee_rate": "0.0038"})
    payment_data(session)
    funder_data(session, world)
    scorecard.record_indicator(session, code="P-FA", indicator="market_share", value=D("10"), source="年报",
                               as_of=date(2026, 3, 1), user_id=None)
    scorecard.record_indicator(session, code="P-FA", indicator="market_share", value=D("12.5"),
                               source="艾瑞咨询 2026Q3", as_of=date(2026, 10, 1), user_id=None)
    return scorecard.scorecard(session, end=TODAY)


def values(card: Card, role: str, code: str) -> dict[str, tuple[Decimal | None, int | None]]:
    row = next(r for r in card.groups[role] if r.code == code)
    return {k: (v.value, v.n) for k, v in row.values.items()}


def test_every_measured_indicator_from_known_data(session: Session) -> None:
    card = build(session)
    assert (card.start, card.end) == (date(2026, 8, 31), TODAY)
    assert values(card, "payment_platform", "P-ALI") == {
        "pay_success_rate": (D("80.0"), 10), "callback_p50_s": (D("4.0"), 8), "callback_p99_s": (D("100.0"), 8),
        "signature_failures": (D(2), 10), "autodebit_success_rate": (D("66.7"), 3), "refund_p50_s": (D("120.0"), 3),
        "recon_diff_per_1000": (D("3.0"), 1000), "fee_per_100": (D("0.60"), None),
        # 7 cashier orders, the 2 unpaid ones at one moment: no outage; no payment complaint in 8 payments
        "downtime_measured_minutes": (D("0.0"), 7), "payment_complaints_per_1000": (D("0.0"), 8),
    }
    assert values(card, "payment_platform", "P-WX") == {
        "pay_success_rate": (D("100.0"), 4), "callback_p50_s": (None, 0), "callback_p99_s": (None, 0),
        "signature_failures": (None, 0), "autodebit_success_rate": (None, 0), "refund_p50_s": (None, 0),
        "recon_diff_per_1000": (None, 0), "fee_per_100": (D("0.38"), None),
        "downtime_measured_minutes": (D("0.0"), 4), "payment_complaints_per_1000": (D("0.0"), 4),
    }
    assert values(card, "funder", "P-FA") == {
        "approval_rate": (D("75.0"), 4), "average_limit": (D("25000.00"), 4), "decision_p50_s": (D("20.0"), 4),
        "shopper_cost_per_100": (D("7.70"), 3), "merchant_cost_per_100": (D("2.30"), 3),
        "complaints_per_100": (D("100.0"), 3), "complaint_resolve_p50_s": (D("3600.0"), 2),
        "early_repayment": (D(1), None), "partial_repayment": (D(0), None), "early_repayment_fee_pct": (D(1), None),
        "market_share": (D("12.5"), None),
    }
    assert values(card, "funder", "P-FB") == {
        "approval_rate": (D("100.0"), 2), "average_limit": (D("5000.00"), 2), "decision_p50_s": (D("100.0"), 2),
        "shopper_cost_per_100": (D("8.00"), 2), "merchant_cost_per_100": (D("1.00"), 1),
        "complaints_per_100": (D("0.0"), 2), "complaint_resolve_p50_s": (None, 0),
        "early_repayment": (D(1), None), "partial_repayment": (D(1), None), "early_repayment_fee_pct": (D(0), None),
    }
    fa = next(r for r in card.groups["funder"] if r.code == "P-FA")
    assert fa.values["approval_rate"].basis == WINDOW
    assert fa.values["market_share"].basis == "艾瑞咨询 2026Q3（2026-10-01）"
    assert fa.values["early_repayment"].basis == "合同 C-P-FA"


def test_scores_ranking_weights_and_sensitivity(session: Session) -> None:
    card = build(session)
    fa, fb = (next(r for r in card.groups["funder"] if r.code == c) for c in ("P-FA", "P-FB"))
    # credit: FA is worst on approval (0) and best on limit and decision time (100, 100); FB the reverse.
    assert (fa.criteria["credit"], fb.criteria["credit"]) == (D("66.7"), D("33.3"))
    # cost: FA better for the shopper (7.70 < 8.00), FB for the merchant (1.00 < 2.30).
    assert (fa.criteria["cost"], fb.criteria["cost"]) == (D("50.0"), D("50.0"))
    # market share: only FA has it, so it scores 100 and FB has no market score.
    assert (fa.criteria["market"], fb.criteria["market"]) == (D("100.0"), None)
    only_credit = {c: D(0) for c in scorecard.CRITERIA} | {"credit": D(1)}
    assert scorecard.ranking(card.groups["funder"], only_credit) == {"P-FA": 1, "P-FB": 2}
    only_service = {c: D(0) for c in scorecard.CRITERIA} | {"service": D(1)}
    assert scorecard.ranking(card.groups["funder"], only_service) == {"P-FB": 1, "P-FA": 2}
    # service: FA 50 (most complaints 0, the only resolution time 100), FB 100. With credit 1.5 and service 1
    # FA leads by 150.05 to 149.95 (over 2.5); 10% less credit or 10% more service and FB leads.
    assert (fa.criteria["service"], fb.criteria["service"]) == (D("50.0"), D("100.0"))
    near = {c: D(0) for c in scorecard.CRITERIA} | {"credit": D("1.5"), "service": D(1)}
    moves = {s.criterion: s.ranks for s in scorecard.sensitivity(card.groups["funder"], near)}
    assert moves["credit"] == {"P-FA": (2, 1, 1), "P-FB": (1, 2, 2)}
    assert moves["service"] == {"P-FA": (1, 1, 2), "P-FB": (2, 2, 1)}
    assert moves["cost"] == {"P-FA": (1, 1, 1), "P-FB": (2, 2, 2)}  # a zero weight moves nothing
    assert set(card.sensitivity) == {"funder", "payment_platform"}
    # weights per business, stored and read back; bad weights are refused in Chinese.
    scorecard.save_weights(session, "online", scorecard.parse_weights({"cost": "3", "credit": "0.5"}), None)
    assert scorecard.get_weights(session, "online")["cost"] == D(3)
    assert scorecard.businesses(session) == ["default", "online"]
    for bad in ({"cost": "x"}, {"cost": "-1"}, {c: "0" for c in scorecard.CRITERIA}):
        with pytest.raises(InvalidPartner) as refused:
            scorecard.parse_weights(bad)
        assert "权重" in refused.value.message("zh") and "weight" in refused.value.message("en")


def test_a_forged_callback_is_counted(client: TestClient, session: Session) -> None:
    answer = client.post("/api/v1/payments/callbacks/alipay", content=b"sign=forged&out_trade_no=X",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 400
    register(session, "P-ALI", "支付宝", "payment_platform", channel="alipay")
    build_world(session)
    today = utcnow().astimezone(SHANGHAI).date()  # the failure is stamped with the wall clock
    row = next(r for r in scorecard.scorecard(session, end=today).groups["payment_platform"])
    assert row.values["signature_failures"].value == D(1)


def signed_in(client: TestClient, session: Session, role: str) -> TestClient:
    user = create_user(session, role=role, display_name=f"测试{role}")
    client.cookies.set(SESSION_COOKIE, start_session(session, user))
    return client


def test_the_scorecard_page_in_chinese_and_english(client: TestClient, session: Session) -> None:
    build(session)
    assert client.get("/ops/partners/scorecard").status_code in (401, 303, 302)
    finance = signed_in(client, session, "finance")
    page = finance.get("/ops/partners/scorecard?days=90").text
    for shown in ("合作方评分", "支付成功率", "80.0%", "¥25,000.00", "3,600.0 秒", "艾瑞咨询 2026Q3（2026-10-01）",
                  "样本 1,000", "−10% / 当前 / +10%"):
        assert shown in page, shown
    assert "pay_success_rate" not in page.split("<main", 1)[-1].replace('name="w_', "")
    assert "Payment success rate" not in page
    what_if = finance.get("/ops/partners/scorecard?w_credit=1&w_service=0&w_stability=0&w_market=0&w_cost=0"
                          "&w_flexibility=0").text
    assert "试算，未保存" in what_if
    bad = finance.get("/ops/partners/scorecard?w_credit=abc")
    assert bad.status_code == 400 and "权重须为数字" in bad.text
    english = finance.get("/ops/partners/scorecard?lang=en").text
    assert "Payment success rate" in english and "Rank when one weight moves ±10%" in english
    assert finance.get("/api/v1/partner-scorecard").json()["groups"]["funder"][0]["indicators"]["approval_rate"][
        "n"] in (2, 4)
    page = finance.get("/ops/partners/scorecard?lang=zh").text
    assert finance.post("/ops/partners/scorecard/weights", data={"csrf_token": csrf_of(page)},
                        follow_redirects=False).status_code == 403
    admin = signed_in(client, session, "admin")
    page = admin.get("/ops/partners/scorecard").text
    saved = admin.post("/ops/partners/scorecard/weights", follow_redirects=False, data={
        "csrf_token": csrf_of(page), "business": "online", "w_cost": "3", "w_credit": "0"})
    assert saved.status_code == 303 and scorecard.get_weights(session, "online")["cost"] == D(3)
    wrong = admin.post("/ops/partners/scorecard/recorded", data={
        "csrf_token": csrf_of(page), "code": "P-FB", "indicator": "market_share", "value": "x", "source": "年报",
        "as_of": "2026-11-01"})
    assert wrong.status_code == 400 and "请填写数字和日期" in wrong.text
    done = admin.post("/ops/partners/scorecard/recorded", follow_redirects=False, data={
        "csrf_token": csrf_of(page), "code": "P-FB", "indicator": "market_share", "value": "20", "source": "年报",
        "as_of": "2026-11-01"})
    assert done.status_code == 303
    assert "年报（2026-11-01）" in admin.get("/ops/partners/scorecard").text


def test_the_comparison_as_csv_and_pdf(client: TestClient, session: Session) -> None:
    build(session)
    finance = signed_in(client, session, "finance")
    got = finance.get("/ops/partners/report.csv")
    assert got.status_code == 200 and got.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["角色", "名次", "合作方"]
    line = next(r for r in rows if r[3] == "P-ALI" and r[8] == "支付成功率")
    assert (line[0], line[9], line[11], line[12]) == ("支付平台", "80.0", "10", WINDOW)
    pdf = finance.get("/ops/partners/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"/Subtype /Type0" in pdf.content or b"/Type0" in pdf.content  # the embedded CJK font
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True).stdout.decode()
        for shown in ("合作方评估报告", "资金方：排名", "支付成功率：80.0%", "艾瑞咨询 2026Q3"):
            assert shown in text, shown
        made = re.search(r"生成时间：(\d{4}-\d\d-\d\d \d\d:\d\d)（北京时间）", text)
        assert made, text[:300]  # when it was made, in Beijing time (UTC+8)
        beijing_now = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=8)
        assert abs(datetime.strptime(made.group(1), "%Y-%m-%d %H:%M") - beijing_now) < timedelta(minutes=5)
    assert finance.get("/ops/partners/report.xls").status_code == 400
