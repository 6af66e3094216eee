"""The consoles in a real browser (Debian's Chromium through Playwright): a clerk's till order from the
form to the paid down payment, a risk officer approving a referred application from the queue, and
the dashboard drawing its charts with nothing fetched from outside the app. Screenshots are saved
under test-artifacts/ (console-*.png)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fenqi.kit.db import session_scope
from fenqi.origination.models import Application
from tests.origination.world import World, build_world, clean_id_number

pytestmark = pytest.mark.browser
CJK = re.compile(r"[\u4e00-\u9fff]")
Shot = Callable[[Any, str], Path]


@pytest.fixture(scope="module")
def shop(live_server: str) -> World:
    """A small shop committed where the live server sees it (its own codes: other browser tests share the DB)."""
    with session_scope() as s:
        return build_world(s, suffix="WC")


@pytest.fixture()
def staff_page(browser: Any, live_server: str) -> Iterator[Callable[..., Any]]:
    """`staff_page(role, merchant_id=None)`: a desktop page signed in (a real session cookie) as a new
    staff member of that role."""
    from fenqi.identity.service import create_user
    from fenqi.identity.sessions import SESSION_COOKIE, start_session

    contexts: list[Any] = []

    def make(role: str, merchant_id: int | None = None) -> Any:
        with session_scope() as s:
            user = create_user(s, role=role, display_name=f"控制台{role}", merchant_id=merchant_id)
            token = start_session(s, user)
        context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900},
                                      timezone_id="Asia/Shanghai")
        context.set_default_timeout(20_000)
        context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server, "httpOnly": True,
                              "sameSite": "Lax"}])
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def assert_chinese(page: Any) -> None:
    assert len(CJK.findall(page.inner_text("body"))) >= 10
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '分期付款')")


def test_clerk_till_order_end_to_end(shop: World, staff_page: Callable[..., Any], screenshot: Shot) -> None:
    from tests.web_console.helpers import pay

    page = staff_page("clerk", shop.merchant_id)
    page.goto("/merchant/till")
    assert_chinese(page)
    page.get_by_label("机型").select_option(shop.sku)
    page.get_by_label("分期方案").select_option("EI-12|12")
    page.get_by_label("首付（元，留空为最低首付）").fill("1000.00")
    page.get_by_label("IMEI（扫码或输入）").fill(shop.devices[0][:-1] + str((int(shop.devices[0][-1]) + 1) % 10))
    assert page.locator("#imei-hint").inner_text().startswith("IMEI 应为")  # a wrong check digit, live
    page.get_by_label("IMEI（扫码或输入）").fill(shop.devices[0])
    assert page.locator("#imei-hint").inner_text() == "IMEI 校验通过"
    page.get_by_label("姓名").fill("李四海")
    page.get_by_label("身份证号").fill(clean_id_number(date(1988, 8, 8)))
    page.get_by_label("手机号").fill("13612345678")
    page.get_by_label("还款银行卡号").fill("6222021234567890128")
    page.get_by_label("工作情况").select_option("employed")
    page.get_by_label("住房").select_option("own")
    page.get_by_label("常用银行卡").select_option("salary")
    page.get_by_label("存款").select_option("20k_50k")
    page.get_by_label("名下房产或汽车").select_option("real_estate")
    page.get_by_label("月收入（元）").fill("15000.00")
    page.get_by_label("现单位工作年限").fill("6")
    page.get_by_label("顾客已阅读并同意《征信查询授权书》").check()
    page.get_by_label("顾客已阅读并同意《个人信息处理授权书》").check()
    screenshot(page, "console-till-form")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/merchant/applications/\d+$"))
    assert page.locator("#app-status").inner_text() == "已批准"
    assert "年化利率" in page.locator("#offer-apr").inner_text()
    page.get_by_role("button", name="生成电子合同").click()
    page.wait_for_selector("#contract-link")
    page.get_by_label("顾客已阅读合同并同意签署").check()
    page.get_by_role("button", name="签约并生成首付订单").click()
    page.wait_for_selector("#payment")
    assert page.locator("#app-status").inner_text() == "已签约"
    assert page.locator(".qr svg").count() == 1 and page.locator("#cashier-link").is_visible()
    screenshot(page, "console-till-signed-qr")
    app_id = int(page.url.split("/")[-1].split("#")[0])
    with session_scope() as s:
        app = s.get(Application, app_id)
        assert app is not None and app.loan_id is not None and app.payment_order
        pay(s, app.payment_order)  # the shopper scans and pays at the cashier
    page.reload()
    assert page.locator("#handover").is_visible()
    page.goto("/merchant/sales")
    assert page.locator(f'a[href="/merchant/applications/{app_id}"]').count() == 1
    screenshot(page, "console-merchant-sales")


def test_risk_officer_approves_a_referred_application(
    shop: World, staff_page: Callable[..., Any], screenshot: Shot
) -> None:
    from fenqi.origination import service
    from fenqi.origination.schemas import ApplicationIn
    from tests.web_console.helpers import clerk_principal

    with session_scope() as s:
        body = ApplicationIn.model_validate(shop.body(id_number=clean_id_number(date(1979, 5, 5)),
                                                      phone="13512345678", profile={"monthly_income": "1100.00"}))
        clerk = clerk_principal(s, shop.merchant_id)
        app = service.submit(s, body, clerk, service.Origin("127.0.0.1", "t")).application
        assert app.status == "referred"
        app_id, decision_id = app.id, app.decision_id
    page = staff_page("risk_officer")
    page.goto("/ops/reviews")
    assert_chinese(page)
    case = page.locator(f"#case-{decision_id}")
    assert "张**" in case.inner_text() and "张三丰" not in case.inner_text()  # the name masked
    case.get_by_label("审核意见（必填）").fill("收入证明已核实，同意")
    screenshot(page, "console-review-queue")
    case.get_by_role("button", name="批准").click()
    page.wait_for_load_state()
    assert page.locator(f"#case-{decision_id}").count() == 0
    with session_scope() as s:
        assert s.scalar(select(Application.status).where(Application.id == app_id)) == "approved"
    screenshot(page, "console-review-done")


def drawn(page: Any) -> None:
    """Every chart of the page drawn by ECharts: an <svg> inside each .chart element."""
    page.wait_for_function("document.querySelectorAll('.chart').length > 0 && [...document.querySelectorAll('.chart')]"
                           ".every(el => el.dataset.drawn === 'yes' && el.querySelector('svg'))")
    assert page.locator(".chart").count() == 6


def svg_texts(page: Any, chart: str) -> list[str]:
    return list(page.eval_on_selector_all(f"{chart} svg text", "els => els.map(e => e.textContent)"))


def test_dashboard_draws_its_charts_offline(
    shop: World, staff_page: Callable[..., Any], screenshot: Shot, live_server: str
) -> None:
    from tests.web_console.helpers import sell

    with session_scope() as s:
        sell(s, shop, imei=shop.devices[1], id_number=clean_id_number(date(1992, 2, 2)), phone="13712345678")
    page = staff_page("finance")
    outside: list[str] = []

    def only_this_app(route: Any) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:  # the charts must not need the internet
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_app)
    page.goto("/ops/dashboard")
    drawn(page)
    texts = svg_texts(page, "#chart-sales")
    assert {"笔数", "周（起始日）"} <= set(texts), texts  # Chinese axis names on the Chinese page
    assert page.locator("#chart-funnel").inner_text().count("首付已付") == 1
    assert_chinese(page)
    assert not outside, outside
    # The first render of the six charts (ECharts init + setOption), measured in the page: ~0.1–0.2 s on the
    # demo data; the bound leaves room for a busy test machine and catches a library gone heavy.
    assert page.evaluate("window.fenqiChartsMs") < 2000
    screenshot(page, "console-dashboard")
    page.goto("/ops/dashboard?lang=en")
    drawn(page)
    assert "Sales" in page.locator("#chart-sales").inner_text()
    assert "Loans" in svg_texts(page, "#chart-sales")
    screenshot(page, "console-dashboard-en")
    page.goto("/ops/dashboard?lang=zh")
