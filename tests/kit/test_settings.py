"""FENQI_* settings: the environment is one of three exact names, production refuses weak or demo
secrets, SQLite and the emulators, and its session cookies are always Secure."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE
from fenqi.kit.settings import Environment, Settings, settings_problems
from fenqi.payments.settings import PaymentSettings

STRONG = "s" * 32
PG = "postgresql+psycopg://fenqi@db.internal/fenqi"
PRODUCTION = {"FENQI_ENV": "production", "FENQI_SECRET_KEY": "k" * 40, "FENQI_PII_KEY": "p" * 44,
              "FENQI_DATABASE_URL": PG, "FENQI_RISK_BUREAU": "pboc"}


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A clean slate of FENQI_* variables for Settings() built in the test."""
    for name in list(os.environ):
        if name.startswith("FENQI_"):
            monkeypatch.delenv(name)
    yield monkeypatch


def _problems(cls: type, monkeypatch: pytest.MonkeyPatch, **values: str) -> list[str]:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        cls()
    return settings_problems(caught.value)


@pytest.mark.parametrize("name", ["prod", "Production", "PRODUCTION", "staging", "production ", "", "dev"])
def test_unknown_environment_names_are_refused(env: pytest.MonkeyPatch, name: str) -> None:
    for cls in (Settings, PaymentSettings):
        problems = _problems(cls, env, FENQI_ENV=name)
        assert problems == [f"FENQI_ENV={name!r} is not one of demo, test, production (exactly, in lower case)"]


@pytest.mark.parametrize("name", ["demo", "test"])
def test_demo_and_test_accept_the_defaults(env: pytest.MonkeyPatch, name: str) -> None:
    env.setenv("FENQI_ENV", name)
    assert Settings().env is Environment(name)
    assert PaymentSettings().env is Environment(name)


def test_production_with_real_settings_loads(env: pytest.MonkeyPatch) -> None:
    for name, value in PRODUCTION.items():
        env.setenv(name, value)
    assert Settings().env is Environment.PRODUCTION


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("FENQI_SECRET_KEY", "x", "FENQI_SECRET_KEY is shorter than 32 bytes"),
    ("FENQI_SECRET_KEY", "s" * 31, "FENQI_SECRET_KEY is shorter than 32 bytes"),
    ("FENQI_SECRET_KEY", "fenqi-demo-secret-not-for-production", "FENQI_SECRET_KEY is the demo value"),
    ("FENQI_PII_KEY", "短" * 10, "FENQI_PII_KEY is shorter than 32 bytes"),  # 30 bytes in UTF-8
    ("FENQI_PII_KEY", "ZmVucWktZGVtby1waWkta2V5LTMyLWJ5dGVzLWxvbmc=", "FENQI_PII_KEY is the demo value"),
    ("FENQI_DATABASE_URL", "sqlite:///prod.db", "FENQI_DATABASE_URL must point at PostgreSQL, not SQLite"),
    ("FENQI_RISK_BUREAU", "emulated", "FENQI_RISK_BUREAU must name a real credit bureau provider, not the emulator"),
])
def test_production_refuses_weak_secrets_sqlite_and_the_emulated_bureau(
    env: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    settings = {**PRODUCTION, name: value}
    assert _problems(Settings, env, **settings) == [f"production settings refused: {problem}"]


def test_a_32_byte_secret_is_enough(env: pytest.MonkeyPatch) -> None:
    for name, value in {**PRODUCTION, "FENQI_SECRET_KEY": STRONG, "FENQI_PII_KEY": "密" * 11}.items():
        env.setenv(name, value)  # 11 Han characters are 33 bytes
    assert Settings().secret_key == STRONG


def test_production_payments_refuse_the_emulators_and_the_demo_api_key(env: pytest.MonkeyPatch) -> None:
    real = {"FENQI_ENV": "production", "FENQI_ALIPAY_GATEWAY": "https://openapi.alipay.com/gateway.do",
            "FENQI_ALIPAY_APP_PRIVATE_KEY": "-----BEGIN…", "FENQI_ALIPAY_PUBLIC_KEY": "-----BEGIN…",
            "FENQI_WECHATPAY_GATEWAY": "https://api.mch.weixin.qq.com", "FENQI_WECHATPAY_PRIVATE_KEY": "-----BEGIN…",
            "FENQI_WECHATPAY_PUBLIC_KEY": "-----BEGIN…", "FENQI_WECHATPAY_APIV3_KEY": "A" * 32}
    for name, value in real.items():
        env.setenv(name, value)
    assert PaymentSettings().env is Environment.PRODUCTION
    emulated = _problems(PaymentSettings, env, FENQI_ALIPAY_GATEWAY="https://pay.example.cn/_emulator/alipay/gateway.do")
    assert emulated == ["production cannot use the gateway emulators: FENQI_ALIPAY_GATEWAY"]
    env.setenv("FENQI_ALIPAY_GATEWAY", real["FENQI_ALIPAY_GATEWAY"])
    demo_key = _problems(PaymentSettings, env, FENQI_WECHATPAY_APIV3_KEY="fenqiDemoApiV3Key0123456789abcde")
    assert demo_key == ["production settings refused: FENQI_WECHATPAY_APIV3_KEY is the demo value"]


def test_the_command_line_refuses_an_unknown_environment_in_one_line() -> None:
    run = subprocess.run([sys.executable, "-m", "fenqi", "db", "upgrade"], capture_output=True, text=True,
                         env={**os.environ, "FENQI_ENV": "prod"}, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "设置有误 | Invalid settings: FENQI_ENV='prod' is not one of demo, test, production (exactly, in lower case)")
    assert "Traceback" not in run.stderr


def _staff_login(client: TestClient) -> str:
    import re

    page = client.get("/login/staff").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post("/login/staff", data={"username": "sec.clerk", "password": "till-pass-1",
                                                  "csrf_token": token.group(1)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return "; ".join(v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v)


@pytest.mark.parametrize(("environment", "secure"), [("production", True), ("demo", False)])
def test_session_cookie_is_secure_in_production_even_behind_plain_http(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch, environment: str, secure: bool
) -> None:
    from fenqi.identity import sessions

    create_user(session, role="clerk", display_name="安全店员", username="sec.clerk", password="till-pass-1",
                merchant_id=1)
    values = {"base_url": "http://127.0.0.1:8000"}
    if environment == "production":
        values |= {"env": "production", "secret_key": STRONG, "pii_key": STRONG, "database_url": PG,
                   "risk_bureau": "pboc"}
    settings = Settings.model_validate(values)
    monkeypatch.setattr(sessions, "get_settings", lambda: settings)
    client.base_url = "https://testserver"  # TLS ends at a proxy; the client sends Secure cookies back over it
    cookie = _staff_login(client)
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert ("; secure" in cookie.lower()) is secure
