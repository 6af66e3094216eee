"""The monthly business review (月度经营分析) PDF of the known March 2026 book: its text, extracted with
pdftotext, carries the Chinese headings and the month's figures (funnel, campaign, coupons, buckets)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.promotions.models import Campaign, CampaignSpend, Coupon
from tests.analytics.book import build


def text_of(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: install Debian poppler-utils (scripts/system-deps)")
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
                          ).stdout.decode()


def test_the_monthly_review_pdf_shows_the_months_figures_in_chinese(
    client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    book = build(session)
    campaign = Campaign(code="MAR-IF", name_zh="三月免息", name_en="March", merchant_id=book.merchant_id,
                        product_code="IF-MERCHANT", starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31),
                        budget_fen=500_000, spent_fen=12_000, sales=1)
    session.add(campaign)
    session.flush()
    session.add(CampaignSpend(campaign_id=campaign.id, application_id=book.apps[4], subsidy_fen=12_000, status="used"))
    session.add(Coupon(code="QREVIEW01", batch="R", kind="interest_free", name_zh="券", name_en="C",
                       merchant_id=book.merchant_id, shopper_user_id=book.c1, valid_from=date(2026, 3, 1),
                       valid_to=date(2026, 3, 31), status="redeemed", redeemed_on=date(2026, 3, 9),
                       subsidy_fen=12_345))
    session.flush()
    analyst = auth_headers("risk_officer")
    answer = client.get("/api/v1/analytics/review.pdf", params={"month": "2026-03"}, headers=analyst)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf" and answer.content.startswith(b"%PDF")
    text = text_of(answer.content)
    for heading in ("月度经营分析 2026-03", "统计期：2026-03-01 至 2026-03-31", "一、销售漏斗", "各环节数量",
                    "二、活动成效", "三、资产质量", "四、产品表现", "审批拒绝：测试拒绝"):
        assert heading in text, heading
    assert re.search(r"生成时间：\d{4}-\d\d-\d\d \d\d:\d\d（北京时间）", text)
    # The funnel's steps (8 plan views, 6 applications, 3 signed), overall conversion 2 of 6.
    assert re.search(r"查看方案\s+8\b", text) and re.search(r"提交申请\s+6\s+75\.00%", text)
    assert re.search(r"签约\s+3\s+60\.00%", text) and "整体转化率（交付 / 申请）：33.33%" in text
    # The campaign's row in the funnel and its budget; the coupon redeemed in March and its cost.
    assert re.search(r"三月免息\s+1\s+1\s+1\s+0\s+0\s+100\.00%", text)
    assert re.search(r"三月免息\s+03-01至03-31\s+5,000\.00\s+120\.00\s+4,880\.00\s+1", text)
    assert re.search(r"免息券\s+1\s+123\.45", text)
    # At March's end: three current loans (¥17,333.33) and two 30-59 days past due (¥10,000.01).
    assert re.search(r"正常\s+3\s+17,333\.33", text) and re.search(r"10,000\.01", text)

    quiet = client.get("/ops/analytics/review.pdf", params={"month": "2025-01"}, headers=analyst)
    assert quiet.status_code == 200 and "本月没有申请" in text_of(quiet.content)  # one page, nothing to show
    page = client.get("/ops/analytics/review.pdf", params={"month": "2026-13"},
                      headers={**analyst, "Accept": "text/html"})
    assert page.status_code == 400 and "月份格式应为" in page.text and "<html" in page.text
    assert client.get("/api/v1/analytics/review.pdf", params={"month": "2026-03"},
                      headers=auth_headers("clerk", book.merchant_id)).status_code == 403
