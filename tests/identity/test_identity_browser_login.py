"""Signing in through a real browser (Debian's Chromium): every staff role by password, a shopper by
the SMS code from the outbox; Chinese by default, English by the switch; screenshots as artifacts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fenqi.identity.outbox import latest_notification, text_to_send
from fenqi.identity.roles import LABELS, STAFF_ROLES
from fenqi.kit.db import session_scope

pytestmark = pytest.mark.browser
CJK = re.compile(r"[\u4e00-\u9fff]")
Shot = Callable[[Any, str], Path]
Users = Callable[..., tuple[str, str]]


def assert_chinese_renders(page: Any) -> None:
    text = page.inner_text("body")
    assert len(CJK.findall(text)) >= 4, text
    # The CJK font is installed and used: Chromium can render Chinese with it without a fallback.
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '分期付款')")


def signed_in(url: str) -> bool:
    """The browser has left the sign-in pages (the redirect after a successful sign-in)."""
    return "/login" not in url


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_sign_in_by_password(role: str, browser_page: Any, browser_user: Users, screenshot: Shot) -> None:
    page = browser_page
    username, password = browser_user(role, 1 if role in ("clerk", "merchant_owner") else None)
    page.goto("/login/staff")
    assert_chinese_renders(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(signed_in)
    page.goto("/me")
    assert page.locator("#account .role").inner_text() == LABELS[role][0]
    assert_chinese_renders(page)
    assert_png(screenshot(page, f"identity-signed-in-{role}"))


def test_wrong_password_is_shown_in_the_form(browser_page: Any, browser_user: Users) -> None:
    page = browser_page
    page.goto("/login/staff")
    page.get_by_label("用户名").fill(browser_user("finance")[0])
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text().startswith("用户名或密码错误")


def test_shopper_signs_in_with_sms_code_then_switches_language_and_signs_out(
    browser: Any, live_server: str, browser_user: Users, screenshot: Shot
) -> None:
    phone, _ = browser_user("shopper")
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto("/login")
        assert_chinese_renders(page)
        page.get_by_label("手机号码").fill(phone)
        page.locator("#agree").check()  # the terms and the privacy policy
        page.get_by_role("button", name="获取验证码").click()
        page.wait_for_url("**/login/verify**")
        assert "139****9000" in page.inner_text("body")
        with session_scope() as s:
            sms = latest_notification(s, to=phone, template="login_code")
            assert sms is not None
            code = re.search(r"\d{6}", text_to_send(sms)).group(0)  # type: ignore[union-attr]
        assert_png(screenshot(page, "identity-shopper-code"))
        page.get_by_label("6 位验证码").fill(code)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(signed_in)
        page.goto("/me")
        assert page.locator("#account .role").inner_text() == "消费者"
        assert_png(screenshot(page, "identity-signed-in-shopper"))
        page.get_by_role("link", name="English").click()
        page.wait_for_url("**/me?lang=en")
        assert page.locator("#account .role").inner_text() == "Shopper"
        assert_png(screenshot(page, "identity-signed-in-shopper-en"))
        page.get_by_role("main").get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/login")
        page.goto("/me")
        assert page.locator("#phone-login").is_visible()  # signed out: /me asks to sign in again
    finally:
        context.close()


def test_page_as_gives_a_signed_in_page_per_role(page_as: Callable[..., Any]) -> None:
    for role in ("merchant_owner", "shopper"):
        page = page_as(role, 1 if role == "merchant_owner" else None)
        page.goto("/me")
        assert page.locator("#account .role").inner_text() == LABELS[role][0]
