"""Sign-in limits hold under concurrency: requests fired at once, each on its own connection, at the real
app served by uvicorn (the `live_server`), each request in its own database transaction.

The live server trusts X-Forwarded-For from 127.0.0.1 (uvicorn's proxy headers, as behind a reverse proxy),
so a test can speak as many clients or as one.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from fenqi.identity.models import AuditEntry, Notification, OtpChallenge, RateCounter, User
from fenqi.identity.otp import MAX_ATTEMPTS, MAX_CODES_PER_CLIENT_PER_HOUR, MAX_CODES_PER_HOUR
from fenqi.identity.outbox import text_to_send
from fenqi.identity.service import LOCK_MINUTES, MAX_FAILED_LOGINS, MAX_FAILED_LOGINS_PER_CLIENT, create_user
from fenqi.kit.crypto import blind_index
from fenqi.kit.db import session_scope

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ERROR = re.compile(r'class="error"[^>]*>([^<]*)<')
PASSWORD = "right-pass-1"


def all_at_once(n: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """`call(i)` for i in 0..n-1 on n threads released together by a barrier."""
    barrier = threading.Barrier(n)

    def run(i: int) -> httpx.Response:
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


class Form:
    """A sign-in form's cookie and CSRF token, posted from any thread on a fresh connection."""

    def __init__(self, base: str, page: str) -> None:
        with httpx.Client(base_url=base) as c:
            r = c.get(page)
            self.cookies = dict(c.cookies)
        self.base = base
        self.token = _CSRF.search(r.text).group(1)  # type: ignore[union-attr]

    def post(self, path: str, data: dict[str, str], client_ip: str) -> httpx.Response:
        with httpx.Client(base_url=self.base, cookies=self.cookies, timeout=60) as c:
            return c.post(path, data={**data, "csrf_token": self.token}, follow_redirects=False,
                          headers={"X-Forwarded-For": client_ip})


def ip(n: int, run: str) -> str:
    """A client address of this test run (counters of other runs live in other windows or rows)."""
    return f"10.{int(run[:2], 16)}.{n // 250}.{n % 250 + 1}"


@pytest.fixture()
def run() -> str:
    return uuid.uuid4().hex[:6]


def new_staff(run: str) -> str:
    username = f"rl.{run}"
    with session_scope() as s:
        create_user(s, role="finance", display_name="限流测试", username=username, password=PASSWORD)
    return username


def test_concurrent_wrong_passwords_lock_after_exactly_five(live_server: str, run: str) -> None:
    username = new_staff(run)
    form = Form(live_server, "/login/staff")
    answers = all_at_once(20, lambda i: form.post("/login/staff", {"username": username, "password": "wrong-pass"},
                                                  ip(i, run)))
    assert [r.status_code for r in answers] == [401] * 20
    assert len({tuple(_ERROR.findall(r.text)) for r in answers}) == 1  # one answer, whoever was counted
    with session_scope() as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None and user.failed_logins == MAX_FAILED_LOGINS and user.locked_until is not None
        minutes = (user.locked_until - user.created_at).total_seconds() / 60
        assert LOCK_MINUTES - 1 < minutes <= LOCK_MINUTES + 1
        failed = s.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.actor_user_id == user.id, AuditEntry.action == "login.failed"))
        assert failed == 20
    # Locked: the right password is refused, in the very words an unknown username gets.
    locked = form.post("/login/staff", {"username": username, "password": PASSWORD}, ip(100, run))
    unknown = form.post("/login/staff", {"username": f"nobody.{run}", "password": PASSWORD}, ip(101, run))
    assert locked.status_code == unknown.status_code == 401
    assert _ERROR.findall(locked.text) == _ERROR.findall(unknown.text) != []
    assert "fenqi_session" not in locked.cookies


def test_one_client_gets_exactly_its_share_of_failed_sign_ins(live_server: str, run: str) -> None:
    form = Form(live_server, "/login/staff")
    n = MAX_FAILED_LOGINS_PER_CLIENT * 2
    answers = all_at_once(n, lambda i: form.post("/login/staff", {"username": f"nobody{i}.{run}",
                                                                  "password": "wrong-pass"}, ip(7, run)))
    assert Counter(r.status_code for r in answers) == {401: MAX_FAILED_LOGINS_PER_CLIENT,
                                                       429: MAX_FAILED_LOGINS_PER_CLIENT}
    # Another client is not held back by the first one's failures; a right password is not counted.
    username = new_staff(run)
    assert form.post("/login/staff", {"username": username, "password": PASSWORD}, ip(8, run)).status_code == 303
    with session_scope() as s:
        used = s.scalars(select(RateCounter.used).where(RateCounter.scope == "login.client")).all()
        assert MAX_FAILED_LOGINS_PER_CLIENT in used


def _send(form: Form, phone: str, client_ip: str) -> httpx.Response:
    return form.post("/login/code", {"agree": "1", "phone": phone}, client_ip)


def _phone(run: str, i: int) -> str:
    return f"137{int(run, 16) % 10**4:04d}{i:04d}"


def test_concurrent_sends_to_one_number_queue_exactly_the_limit(live_server: str, run: str) -> None:
    form = Form(live_server, "/login")
    phone = _phone(run, 1)
    answers = all_at_once(20, lambda i: _send(form, phone, ip(i, run)))
    assert Counter(r.status_code for r in answers) == {303: MAX_CODES_PER_HOUR, 429: 20 - MAX_CODES_PER_HOUR}
    with session_scope() as s:
        index = blind_index(phone)
        assert s.scalar(select(func.count()).select_from(OtpChallenge)
                        .where(OtpChallenge.phone_index == index)) == MAX_CODES_PER_HOUR
        assert s.scalar(select(func.count()).select_from(Notification)
                        .where(Notification.to_index == index)) == MAX_CODES_PER_HOUR


def test_one_client_cannot_text_many_numbers(live_server: str, run: str) -> None:
    form = Form(live_server, "/login")
    phones = [_phone(run, 100 + i) for i in range(40)]
    answers = all_at_once(40, lambda i: _send(form, phones[i], ip(9, run)))
    assert Counter(r.status_code for r in answers) == {303: MAX_CODES_PER_CLIENT_PER_HOUR,
                                                       429: 40 - MAX_CODES_PER_CLIENT_PER_HOUR}
    with session_scope() as s:
        sent = s.scalar(select(func.count()).select_from(Notification)
                        .where(Notification.to_index.in_([blind_index(p) for p in phones])))
        assert sent == MAX_CODES_PER_CLIENT_PER_HOUR


def _challenge(live_server: str, form: Form, phone: str, client_ip: str) -> tuple[str, str]:
    sent = _send(form, phone, client_ip)
    assert sent.status_code == 303, sent.text
    ref = sent.headers["location"].split("c=")[1].split("&")[0]
    with session_scope() as s:
        sms = s.scalar(select(Notification).where(Notification.to_index == blind_index(phone))
                       .order_by(Notification.id.desc()).limit(1))
        assert sms is not None
        return ref, re.search(r"\d{6}", text_to_send(sms)).group(0)  # type: ignore[union-attr]


def test_concurrent_code_guesses_are_counted_exactly(live_server: str, run: str) -> None:
    form = Form(live_server, "/login")
    ref, code = _challenge(live_server, form, _phone(run, 2), ip(11, run))
    wrong = "000000" if code != "000000" else "111111"
    answers = all_at_once(40, lambda i: form.post("/login/verify", {"ref": ref, "code": wrong}, ip(i, run)))
    assert [r.status_code for r in answers] == [401] * 40
    with session_scope() as s:
        challenge = s.scalar(select(OtpChallenge).where(OtpChallenge.ref == ref))
        assert challenge is not None and challenge.attempts == MAX_ATTEMPTS and challenge.consumed_at is None
    right = form.post("/login/verify", {"ref": ref, "code": code}, ip(12, run))
    assert right.status_code == 401 and "fenqi_session" not in right.cookies


def test_a_code_signs_in_once_however_many_use_it_at_once(live_server: str, run: str) -> None:
    form = Form(live_server, "/login")
    ref, code = _challenge(live_server, form, _phone(run, 3), ip(13, run))
    answers = all_at_once(MAX_ATTEMPTS, lambda i: form.post("/login/verify", {"ref": ref, "code": code}, ip(i, run)))
    assert Counter(r.status_code for r in answers) == {303: 1, 401: MAX_ATTEMPTS - 1}
