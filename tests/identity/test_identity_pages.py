"""Sign-in pages through the real app: CSRF, staff passwords, shopper codes from the outbox, logout."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.identity.models import AuditEntry, OtpChallenge, User
from fenqi.identity.otp import MAX_CODES_PER_HOUR
from fenqi.identity.outbox import latest_notification, text_to_send
from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PHONE = "13912345678"


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the form carries no CSRF token"
    return match.group(1)


@pytest.fixture()
def clerk(session: Session) -> User:
    return create_user(session, role="clerk", display_name="李店员", username="li.clerk", password="till-pass-1",
                       merchant_id=2)


def staff_login(client: TestClient, username: str, password: str, next_path: str = "") -> object:
    token = csrf_of(client.get("/login/staff").text)
    return client.post("/login/staff", data={"username": username, "password": password, "csrf_token": token,
                                             "next": next_path}, follow_redirects=False)


def test_forms_have_labels_for_every_field(client: TestClient) -> None:
    for path in ("/login", "/login/staff", "/login/verify?c=x"):
        html = client.get(path).text
        ids = re.findall(r'<input[^>]*\bid="([^"]+)"', html)
        visible = [i for i in ids if not re.search(rf'<input[^>]*type="hidden"[^>]*id="{i}"', html)]
        assert visible, path
        for field in visible:
            assert f'<label for="{field}"' in html, f"{path}: no label for #{field}"


def test_pages_are_chinese_by_default_and_english_by_switch(client: TestClient) -> None:
    assert "员工登录" in client.get("/login/staff").text
    english = client.get("/login/staff", params={"lang": "en"}).text
    assert "Staff sign-in" in english and 'lang="en"' in english


def test_staff_login_sets_session_and_logout_revokes_it(client: TestClient, clerk: User, session: Session) -> None:
    r = staff_login(client, "Li.Clerk", "till-pass-1", "/me")
    assert r.status_code == 303 and r.headers["location"] == "/me"
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    me = client.get("/me")
    assert me.status_code == 200 and "李店员" in me.text and "门店店员" in me.text
    assert client.get("/api/v1/identity/me").json()["merchant_id"] == 2
    out = client.post("/logout", data={"csrf_token": csrf_of(me.text)}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set(SESSION_COOKIE, token)  # replaying the old cookie does not work
    assert client.get("/api/v1/identity/me").status_code == 401
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.actor_user_id == clerk.id)).all()
    assert {"login", "logout"} <= set(actions)


def test_cookie_post_without_csrf_token_is_refused(client: TestClient, clerk: User) -> None:
    staff_login(client, "li.clerk", "till-pass-1")
    r = client.post("/logout", follow_redirects=False)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "页面已过期" in r.text  # a page that says so, with the way back — never the API's JSON
    r = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/api/v1/identity/me").status_code == 200  # still signed in


def test_login_form_itself_needs_the_token(client: TestClient, clerk: User) -> None:
    r = client.post("/login/staff", data={"username": "li.clerk", "password": "till-pass-1"}, follow_redirects=False)
    assert r.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_wrong_password_and_lockout(client: TestClient, clerk: User) -> None:
    for _ in range(5):
        r = staff_login(client, "li.clerk", "wrong-password")
        assert r.status_code == 401
    unknown = staff_login(client, "nobody", "whatever-1")
    assert "用户名或密码错误" in unknown.text
    locked = staff_login(client, "li.clerk", "till-pass-1")
    assert locked.status_code == 401, "the right password is refused while the account is locked"
    assert SESSION_COOKIE not in client.cookies
    # A locked account answers exactly as an unknown one: nothing tells which usernames exist.
    message = re.compile(r'class="error"[^>]*>([^<]*)<')
    assert message.findall(locked.text) == message.findall(unknown.text) != []


def test_shopper_cannot_use_staff_login(client: TestClient, session: Session) -> None:
    create_user(session, role="shopper", display_name="张三", username="zhang", password="shopper-pw-1")
    assert staff_login(client, "zhang", "shopper-pw-1").status_code == 401


def test_open_redirect_is_refused(client: TestClient, clerk: User) -> None:
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        r = staff_login(client, "li.clerk", "till-pass-1", evil)
        assert r.headers["location"] in ("/merchant", "/me"), evil  # the clerk's home instead


def shopper_code_login(client: TestClient, session: Session, phone: str = PHONE) -> object:
    token = csrf_of(client.get("/login").text)
    sent = client.post("/login/code", data={"agree": "1", "phone": phone, "csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    verify_url = sent.headers["location"]
    sms = latest_notification(session, to=phone, template="login_code")
    assert sms is not None and sms.to_masked == "139****5678"
    code = re.search(r"\d{6}", text_to_send(sms)).group(0)  # type: ignore[union-attr]
    page = client.get(verify_url)
    assert "139****5678" in page.text and PHONE not in page.text
    ref = re.search(r'name="ref" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post("/login/verify", data={"ref": ref, "code": code, "csrf_token": csrf_of(page.text)},
                       follow_redirects=False)


def test_shopper_signs_in_with_code_from_outbox(client: TestClient, session: Session) -> None:
    r = shopper_code_login(client, session)
    assert r.status_code == 303
    me = client.get("/api/v1/identity/me").json()
    assert me["role"] == "shopper" and me["display_name"] == "139****5678"
    user = session.get(User, me["user_id"])
    assert user is not None and PHONE not in (user.phone_enc or "")  # encrypted at rest


def test_code_is_single_use_and_guesses_are_limited(client: TestClient, session: Session) -> None:
    token = csrf_of(client.get("/login").text)
    sent = client.post("/login/code", data={"agree": "1", "phone": PHONE, "csrf_token": token}, follow_redirects=False)
    ref = sent.headers["location"].split("c=")[1]
    sms = latest_notification(session, to=PHONE)
    code = re.search(r"\d{6}", text_to_send(sms)).group(0)  # type: ignore[union-attr]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        r = client.post("/login/verify", data={"ref": ref, "code": wrong, "csrf_token": token})
        assert r.status_code == 401 and "验证码错误" in r.text
    # Five wrong guesses use up the challenge: even the right code no longer works.
    r = client.post("/login/verify", data={"ref": ref, "code": code, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 401
    challenge = session.scalar(select(OtpChallenge).where(OtpChallenge.ref == ref))
    assert challenge is not None and challenge.attempts == 5


def test_codes_per_number_are_rate_limited(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    for _ in range(MAX_CODES_PER_HOUR):
        assert client.post("/login/code", data={"agree": "1", "phone": PHONE, "csrf_token": token},
                           follow_redirects=False).status_code == 303
    r = client.post("/login/code", data={"agree": "1", "phone": PHONE, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 429


def test_bad_phone_number_is_shown_on_the_form(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login/code", data={"agree": "1", "phone": "12345", "csrf_token": token}, params={"lang": "en"})
    assert r.status_code == 400 and "Invalid mobile number" in r.text


def test_browser_gets_sign_in_form_with_401(client: TestClient) -> None:
    r = client.get("/ops/audit", headers={"accept": "text/html"})
    assert r.status_code == 401
    assert 'id="staff-login"' in r.text and 'value="/ops/audit"' in r.text
    assert client.get("/ops/audit").headers["content-type"].startswith("text/html")  # any browser: a page
    assert client.get("/ops/audit", headers={"accept": "application/json"}).json()["error"] == "unauthorized"


def test_outbox_page_masks_recipients(client: TestClient, session: Session, auth_headers: object) -> None:
    shopper_code_login(client, session)
    client.cookies.clear()
    headers = auth_headers("collector")  # type: ignore[operator]
    page = client.get("/ops/notifications", headers=headers)
    assert page.status_code == 200
    assert "139****5678" in page.text and PHONE not in page.text


def test_demo_shows_the_code_on_the_page_and_nothing_else_does(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fenqi.kit.settings import get_settings

    token = csrf_of(client.get("/login").text)
    url = client.post("/login/code", data={"agree": "1", "phone": PHONE, "csrf_token": token},
                      follow_redirects=False).headers["location"]
    code = re.search(r"\d{6}", text_to_send(latest_notification(session, to=PHONE))).group(0)  # type: ignore[union-attr]
    assert code not in client.get(url).text  # outside the demo the code is only in the outbox
    monkeypatch.setattr(get_settings(), "env", "demo")
    assert 'id="demo-code"' in client.get(url).text and code in client.get(url).text


def test_next_with_its_own_query_survives_the_code_sign_in(client: TestClient, session: Session) -> None:
    target = "/me?tab=loans&lang=zh"
    login = client.get("/login", params={"next": target})
    assert 'href="/login/staff?next=/me%3Ftab%3Dloans%26lang%3Dzh"' in login.text
    sent = client.post("/login/code", follow_redirects=False,
                       data={"agree": "1", "phone": PHONE, "csrf_token": csrf_of(login.text), "next": target})
    page = client.get(sent.headers["location"])
    code = re.search(r"\d{6}", text_to_send(latest_notification(session, to=PHONE))).group(0)  # type: ignore[union-attr]
    ref = re.search(r'name="ref" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    next_value = re.search(r'name="next" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/login/verify", data={"ref": ref, "code": code, "csrf_token": csrf_of(page.text),
                                           "next": next_value.replace("&amp;", "&")}, follow_redirects=False)
    assert r.headers["location"] == target


def test_every_refusal_costs_one_password_check(session: Session, clerk: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown, wrong, locked: each refusal spends one argon2 verification (similar timing) and raises
    the same error, so neither the answer nor its time tells which usernames exist or are locked."""
    from argon2 import PasswordHasher

    from fenqi.identity import passwords
    from fenqi.identity.errors import InvalidCredentials
    from fenqi.identity.service import MAX_FAILED_LOGINS, authenticate_password

    real = passwords._hasher()
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append(str(password))
            return real.verify(hash, password)

    counting = Counting(time_cost=real.time_cost, memory_cost=real.memory_cost, parallelism=real.parallelism)
    monkeypatch.setattr(passwords, "_hasher", lambda: counting)

    def refusal(username: str, password: str) -> str:
        calls.clear()
        with pytest.raises(InvalidCredentials) as caught:
            authenticate_password(session, username, password)
        assert len(calls) == 1, username
        return caught.value.message("zh")

    unknown = refusal("nobody", "whatever-1")
    for _ in range(MAX_FAILED_LOGINS):
        assert refusal("li.clerk", "wrong-password") == unknown
    assert clerk.locked_until is not None
    assert refusal("li.clerk", "till-pass-1") == unknown  # locked: the right password too


def test_a_number_with_letters_or_superscripts_gets_no_code(client: TestClient, session: Session) -> None:
    """A typed number is digits and separators only: a keypad's vanity letters would otherwise be read as
    digits and the code sent to somebody else's phone (139ABCD5678 → 13922235678)."""
    for typed in ("139ABCD5678", "1391234567８a", "139123456７²", "①3912345678"):
        token = csrf_of(client.get("/login").text)
        refused = client.post("/login/code", data={"agree": "1", "phone": typed, "csrf_token": token},
                              follow_redirects=False)
        assert refused.status_code == 400 and "手机号" in refused.text, typed
    assert session.scalar(select(OtpChallenge).limit(1)) is None  # no code sent anywhere
    assert latest_notification(session, to="13922235678", template="login_code") is None
    token = csrf_of(client.get("/login").text)  # full-width digits, as an IME types them, are a number
    typed = client.post("/login/code", data={"agree": "1", "phone": "１３９ １２３４ ５６７８", "csrf_token": token},
                        follow_redirects=False)
    assert typed.status_code == 303 and latest_notification(session, to=PHONE, template="login_code") is not None
