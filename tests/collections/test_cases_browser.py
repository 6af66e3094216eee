"""A collector works a case in a real browser (Debian's Chromium through Playwright): the queue, the case's
workspace, the phone number revealed (audited), a call logged, a promise to pay recorded, the pay link
sent by SMS. Screenshots under test-artifacts/ (collections-*.png).

The loan is sold on the world's date and its first installment left unpaid: close-of-business runs through
two days past its due date in the live server's database and opens the case, which the lead's rule then
assigns. The business date is put back afterwards, as the other browser tests expect the world's date."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fenqi.collections.models_cases import CollectionCase, LoanNote, PromiseToPay
from fenqi.identity.models import AuditEntry, Notification
from fenqi.kit.clock import business_date, set_business_date
from fenqi.kit.db import get_engine, session_scope
from tests.collections.support import FIRST_DUE, signed_in
from tests.origination.world import build_world, clean_id_number
from tests.web_console.helpers import sell

pytestmark = pytest.mark.browser
CJK = re.compile(r"[\u4e00-\u9fff]")
PHONE = "13712340099"


@pytest.fixture()
def collector_page(browser: Any, live_server: str, daytime: object) -> Iterator[tuple[Any, int, int]]:
    """A page signed in as a new collector holding one case (its borrower signed in with their phone, the
    contact rules' clock at 10:00 Beijing time); yields (page, case id, loan id)."""
    from fenqi.collections.cases import assign
    from fenqi.identity.service import create_user
    from fenqi.identity.sessions import SESSION_COOKIE, start_session
    from fenqi.servicing.cob_runs import close_day

    with session_scope() as s:
        world = build_world(s, suffix="CC")
        app = sell(s, world, imei=world.devices[0], name="王五", phone=PHONE,
                   id_number=clean_id_number(date(1979, 5, 5)))
        signed_in(s, app.loan_id)
        user = create_user(s, role="collector", display_name="浏览器催收")
        loan_id, user_id, token, started = app.loan_id, user.id, start_session(s, user), business_date(s)
    engine = get_engine()
    while True:
        with session_scope() as s:
            day = business_date(s)
        if day > FIRST_DUE + timedelta(days=2):
            break
        close_day(engine, day)
        with session_scope() as s:
            assert business_date(s) > day, f"closing {day} did not move the business date on"
    with session_scope() as s:
        case = s.scalar(select(CollectionCase).where(CollectionCase.loan_id == loan_id,
                                                     CollectionCase.status == "open"))
        assert case is not None and case.dpd == 3
        case_id = assign(s, case.id, user_id, {user_id: "浏览器催收"}).id
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900},
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(20_000)
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server, "httpOnly": True,
                          "sameSite": "Lax"}])
    try:
        yield context.new_page(), case_id, loan_id
    finally:
        context.close()
        with session_scope() as s:
            set_business_date(s, started)


def test_a_collector_works_a_case(collector_page: tuple[Any, int, int], screenshot: Callable[..., Path]) -> None:
    page, case_id, loan_id = collector_page
    page.goto("/ops/cases")
    assert len(CJK.findall(page.inner_text("body"))) >= 10
    row = page.locator(f"#case-{case_id}")
    assert "137****0099" in row.inner_text() and PHONE not in page.content()
    screenshot(page, "collections-queue")
    row.get_by_role("link", name=f"#{case_id}").click()
    page.wait_for_url(re.compile(rf"/ops/cases/{case_id}$"))
    assert page.locator("#phone").inner_text() == "137****0099"
    assert "逾期 3 天" in page.inner_text("body")
    owed = page.locator("#owed-today").inner_text()
    assert owed.startswith("¥") and owed != "¥0.00"
    screenshot(page, "collections-case")

    page.get_by_label("查看完整手机号的原因（将记入审计日志）").fill("电话催收")
    page.get_by_role("button", name="查看完整手机号").click()
    page.wait_for_selector("#revealed")
    assert page.locator("#phone").inner_text() == PHONE
    screenshot(page, "collections-phone-revealed")

    page.get_by_label("联系方式").select_option("call")
    page.get_by_label("结果").select_option("promised")
    page.get_by_label("说明（不要写入身份证号等个人信息）").fill("本人接听，答应三天内还款")
    page.get_by_role("button", name="保存联系记录").click()
    page.wait_for_selector("#notice")
    log = page.locator("#contact-log").inner_text()
    assert "电话" in log and "承诺还款" in log
    screenshot(page, "collections-call-logged")

    page.get_by_label("承诺金额（元）").fill("450.00")
    page.get_by_label("承诺日期").fill((FIRST_DUE + timedelta(days=5)).isoformat())
    page.get_by_role("button", name="记录承诺").click()
    page.wait_for_selector("#notice")
    assert "450.00" in page.locator("#promises").inner_text() and "待兑现" in page.locator("#promises").inner_text()
    screenshot(page, "collections-promise")

    page.get_by_role("button", name="发送还款链接短信").click()
    page.wait_for_selector("#notice")
    assert "还款链接短信已加入发送队列" in page.locator("#notice").inner_text()
    assert owed in page.locator("#contact-log").inner_text()
    assert "短信" in page.locator("#contact-log").inner_text()
    screenshot(page, "collections-pay-link")

    with session_scope() as s:
        kinds = sorted(s.scalars(select(LoanNote.kind).where(LoanNote.loan_id == loan_id)))
        assert kinds == ["call", "sms"]
        assert s.scalar(select(PromiseToPay.amount_fen).where(PromiseToPay.case_id == case_id)) == 45_000
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.action == "phone.revealed",
                                                    AuditEntry.subject == f"loan:{loan_id}")) is not None
        assert any(f"/shop/loans/{loan_id}/overdue" in b for b in s.scalars(
            select(Notification.body).where(Notification.template == "collections.pay_link")))
