"""A risk officer's counter-offer reaching the clerk, in a real browser (Debian's Chromium through Playwright):
the officer approves a referred application from the queue with a shorter plan and a higher down payment within
the credit limit, and the clerk of the store, signed in in a browser of their own, sees the approved plan beside
the one applied for. Screenshots are saved under test-artifacts/ (console-counter-*.png)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from fenqi.kit.db import session_scope
from fenqi.origination.models import Application
from fenqi.risk.models import RiskDecision
from tests.origination.world import World, build_world, clean_id_number
from tests.web_console.test_console_browser import Shot, assert_chinese, staff_page  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(live_server: str) -> World:
    """A small shop committed where the live server sees it (its own codes: other browser tests share the DB)."""
    with session_scope() as s:
        return build_world(s, suffix="CO")


def _referred(shop: World) -> tuple[int, int, int, int, int]:
    """A till application sent to review: (application id, decision id, price, down payment, credit limit) in fen."""
    from fenqi.origination import service
    from fenqi.origination.schemas import ApplicationIn
    from tests.web_console.helpers import clerk_principal

    with session_scope() as s:
        body = ApplicationIn.model_validate(shop.body(id_number=clean_id_number(date(1981, 6, 6)),
                                                      phone="13512345679", profile={"monthly_income": "1100.00"}))
        clerk = clerk_principal(s, shop.merchant_id)
        app = service.submit(s, body, clerk, service.Origin("127.0.0.1", "t")).application
        assert app.status == "referred", app.reasons
        decision = s.get(RiskDecision, app.decision_id)
        assert decision is not None
        return app.id, decision.id, app.price_fen, app.down_payment_fen, decision.credit_limit_fen


def test_a_counter_offer_reaches_the_clerk(
    shop: World, staff_page: Callable[..., Any], screenshot: Shot  # noqa: F811  (the imported fixture)
) -> None:
    app_id, decision_id, price, down, limit = _referred(shop)
    assert down == 100_000 and price - 200_000 <= limit  # ¥2,000 down leaves what the limit allows
    officer = staff_page("risk_officer")
    officer.goto("/ops/reviews")
    case = officer.locator(f"#case-{decision_id}")
    case.get_by_label("审核意见（必填）").fill("收入偏低，提高首付、缩短期限")
    case.get_by_label("方案", exact=True).select_option("EI-12|6")
    case.get_by_label("首付（元）").fill("2000.00")
    screenshot(officer, "console-counter-offer")
    case.get_by_role("button", name="按调整方案批准").click()
    officer.wait_for_load_state()
    assert officer.locator(f"#case-{decision_id}").count() == 0
    assert officer.get_by_role("alert").count() == 0
    with session_scope() as s:
        app = s.get(Application, app_id)
        assert app is not None and app.status == "approved" and app.term == 6 and app.down_payment_fen == 200_000
    clerk = staff_page("clerk", shop.merchant_id)
    clerk.goto(f"/merchant/applications/{app_id}")
    assert_chinese(clerk)
    offer = clerk.locator("#counter-offer")
    assert "批准的方案与申请时不同" in offer.inner_text() and "请向顾客说明批准的方案" in offer.inner_text()
    rows = {r.locator("th").inner_text(): [c.inner_text() for c in r.locator("td").all()]
            for r in offer.locator("tbody tr").all()}
    assert rows["方案"][0].endswith("12 期") and rows["方案"][1] == "等额本息 年化12% · 6 期", rows
    assert rows["首付"] == ["¥1,000.00", "¥2,000.00"], rows
    assert rows["分期金额"] == ["¥4,999.00", "¥3,999.00"], rows
    # The shopper's acceptance is signing the contract of the approved plan, which the clerk draws up here.
    assert clerk.get_by_role("button", name="生成电子合同").is_visible()
    screenshot(clerk, "console-counter-clerk")
