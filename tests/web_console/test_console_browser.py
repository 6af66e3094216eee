"""The consoles in a real browser (Debian's Chromium through Playwright): a clerk's till sale on a phone-width
screen from the scan to the handover receipt, a risk officer approving a referred application from the queue, and
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
    """`staff_page(role, merchant_id=None, viewport=None)`: a page (desktop unless a viewport is given) signed
    in (a real session cookie) as a new staff member of that role."""
    from fenqi.identity.service import create_user
    from fenqi.identity.sessions import SESSION_COOKIE, start_session

    contexts: list[Any] = []

    def make(role: str, merchant_id: int | None = None, viewport: dict[str, int] | None = None) -> Any:
        with session_scope() as s:
            user = create_user(s, role=role, display_name=f"控制台{role}", merchant_id=merchant_id)
            token = start_session(s, user)
        context = browser.new_context(base_url=live_server, locale="zh-CN",
                                      viewport=viewport or {"width": 1280, "height": 900}, timezone_id="Asia/Shanghai")
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


def fits_the_phone(page: Any, width: int = 390) -> None:
    """No sideways scrolling: the page is no wider than the phone."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_clerk_till_order_on_a_phone(shop: World, staff_page: Callable[..., Any], screenshot: Shot) -> None:
    """The till at phone width (390 px): scan → the phone's plans → submit → sign → the down payment arrives
    (the page updates itself) → 交付 → the receipt."""
    from tests.web_console.helpers import pay

    page = staff_page("clerk", shop.merchant_id, viewport={"width": 390, "height": 844})
    page.goto("/merchant/till")
    assert_chinese(page)
    fits_the_phone(page)
    scan = page.get_by_label("IMEI（扫码或输入）")
    scan.fill(shop.devices[0][:-1] + str((int(shop.devices[0][-1]) + 1) % 10))
    assert page.locator("#imei-hint").inner_text().startswith("IMEI 应为")  # a wrong check digit, live
    scan.fill(shop.devices[0])
    assert page.locator("#imei-hint").inner_text() == "IMEI 校验通过"
    scan.press("Enter")  # a barcode scanner ends with Enter: the phone's plans appear
    page.wait_for_selector("#till")
    fits_the_phone(page)
    plans = page.locator("label.plan")
    assert plans.count() >= 2
    for text in plans.all_inner_texts():
        assert "月供 ¥" in text and "年化利率" in text, text
    assert page.get_by_label("住房情况").input_value() == "" and page.get_by_label("月收入（元）").input_value() == ""
    page.locator('label.plan:has(input[value="EI-12|12"])').click()
    page.get_by_label("姓名").fill("李四海")
    page.get_by_label("身份证号").fill(clean_id_number(date(1988, 8, 8)))
    page.get_by_label("手机号码").fill("13612345678")
    page.get_by_label("还款银行卡号").fill("6222021234567890128")
    for question, value in (("工作情况", "employed"), ("住房情况", "own"), ("常用银行卡", "salary"),
                            ("存款", "20k_50k"), ("名下房产或汽车", "real_estate")):
        page.get_by_label(question).select_option(value)
    page.get_by_label("月收入（元）").fill("15000.00")
    page.get_by_label("现单位工作年限（年）").fill("6")
    page.get_by_label("现住址居住年限（年）").fill("4")
    page.get_by_label("在其他机构的分期 / 贷款笔数").fill("0")
    page.get_by_label("顾客已阅读并同意《征信查询授权书》").check()
    page.get_by_label("顾客已阅读并同意《个人信息处理授权书》").check()
    fits_the_phone(page)
    screenshot(page, "console-till-phone-form")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/merchant/applications/\d+$"))
    assert page.locator("#app-status").inner_text() == "已批准"
    assert "年化利率" in page.locator("#offer-apr").inner_text()
    fits_the_phone(page)
    page.get_by_role("button", name="生成电子合同").click()
    page.wait_for_selector("#contract-link")
    page.get_by_label("顾客已阅读合同并同意签署").check()
    page.get_by_role("button", name="签约并生成首付订单").click()
    page.wait_for_selector("#payment")
    assert page.locator("#app-status").inner_text() == "已签约"
    assert page.locator(".qr svg").count() == 1 and page.locator("#cashier-link").is_visible()
    assert page.locator("#hand-over").count() == 0
    fits_the_phone(page)
    screenshot(page, "console-till-phone-qr")
    app_id = int(page.url.split("/")[-1].split("#")[0])
    with session_scope() as s:
        app = s.get(Application, app_id)
        assert app is not None and app.loan_id is not None and app.payment_order
        pay(s, app.payment_order)  # the shopper scans and pays at the cashier
    page.get_by_role("button", name="交付").wait_for(timeout=15_000)  # no reload by the clerk
    page.get_by_role("button", name="交付").click()
    page.wait_for_url(re.compile(r"/merchant/applications/\d+/receipt$"))
    receipt = page.locator("#receipt").inner_text()
    assert "交付凭证" in receipt and shop.devices[0] in receipt and "性能故障可退货至" in receipt
    fits_the_phone(page)
    screenshot(page, "console-till-phone-receipt")
    with session_scope() as s:
        app = s.get(Application, app_id)
        assert app is not None and app.handed_over_at is not None
    page.goto("/merchant/sales")
    assert page.locator(f'a[href="/merchant/applications/{app_id}"]').count() == 1


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
    case.get_by_role("button", name="批准", exact=True).click()
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
