"""The SMS gateway: Alibaba Cloud SMS (Dysmsapi 2017-05-25) through its own SDK.

`send` calls SendSms with an approved template and its variables, and returns the provider's BizId;
`receipts` calls QuerySendDetails for one message and says whether it reached the handset. Outside
production, unless FENQI_SMS_ENDPOINT names a gateway, the SDK talks to the local emulator mounted at
`/_emulator/sms` of our own server (fenqi.identity.sms_emulator) — the same SDK code path, signatures
included. The SDK's own retries are off: the outbox retries with back-off and records every try.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fenqi.kit.settings import Environment, parse_environment, short_secret

_DEMO_KEY_ID = "LTAIfenqiDemoSmsKey"
_DEMO_KEY_SECRET = "fenqi-demo-sms-secret-not-for-production"
# Refusals worth another try later: flow control, the provider's own trouble, the network.
RETRYABLE = frozenset({"Throttling.User", "Throttling", "isv.BUSINESS_LIMIT_CONTROL", "ServiceUnavailable",
                       "InternalError", "network"})


class SmsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FENQI_", env_file=None, extra="ignore")

    env: Environment = Environment.DEMO
    base_url: str = "http://127.0.0.1:8000"
    # `aliyun`: the outbox sends through the SDK (always so in production); empty outside production: the
    # test stand-in only logs, and the demo keeps messages in the outbox page.
    sms_provider: str = ""
    # host[:port][/path] of the gateway; empty: the emulator on our own server.
    sms_endpoint: str = ""
    sms_protocol: str = ""  # http | https; empty: https, or the emulator's own server's scheme
    sms_access_key_id: str = _DEMO_KEY_ID
    sms_access_key_secret: str = _DEMO_KEY_SECRET
    sms_sign_name: str = "分期商城"
    sms_timeout_ms: int = 5000
    # Our template names → the provider's approved template codes; any other goes out as SMS_FQ_NOTICE.
    sms_templates: dict[str, str] = {"login_code": "SMS_FQ_LOGIN"}
    # The outbox's tries before a message is given up (retryable refusals only), and the first back-off.
    sms_max_attempts: int = 6
    sms_backoff_seconds: int = 30

    @field_validator("env", mode="before")
    @classmethod
    def _known_environment(cls, value: Any) -> Environment:
        return parse_environment(value)

    @model_validator(mode="after")
    def _production_needs_a_gateway(self) -> SmsSettings:
        if self.env == Environment.PRODUCTION:
            problems = [p for p in (short_secret("FENQI_SMS_ACCESS_KEY_SECRET", self.sms_access_key_secret,
                                                 _DEMO_KEY_SECRET),) if p]
            if not self.sms_endpoint or "/_emulator/" in self.sms_endpoint:
                problems.append("FENQI_SMS_ENDPOINT must name the provider (dysmsapi.aliyuncs.com), not the emulator")
            if problems:
                raise ValueError("production SMS settings refused: " + "; ".join(problems))
        return self

    @property
    def uses_sdk(self) -> bool:
        return self.env == Environment.PRODUCTION or self.sms_provider == "aliyun"

    @property
    def emulated(self) -> bool:
        return not self.sms_endpoint

    def endpoint(self) -> str:
        if self.sms_endpoint:
            return self.sms_endpoint
        return self.base_url.split("://", 1)[-1].rstrip("/") + "/_emulator/sms"

    def protocol(self) -> str:
        if self.sms_protocol:
            return self.sms_protocol
        return "http" if self.emulated and self.base_url.startswith("http://") else "https"

    def template_code(self, template: str) -> str:
        return self.sms_templates.get(template, "SMS_FQ_NOTICE")


@lru_cache
def get_sms_settings() -> SmsSettings:
    return SmsSettings()


class SmsRefused(RuntimeError):
    """The gateway did not take the message: `code` is the provider's (Throttling.User, …)."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}"[:200])
        self.code = code

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE


@dataclass(frozen=True)
class Receipt:
    """What QuerySendDetails says of one message: 1 waiting, 2 failed, 3 delivered."""

    status: str  # waiting | delivered | undelivered
    code: str
    received_at: datetime | None


@lru_cache
def _client() -> Any:
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi import models as open_api

    s = get_sms_settings()
    return Client(open_api.Config(
        access_key_id=s.sms_access_key_id, access_key_secret=s.sms_access_key_secret,
        endpoint=s.endpoint(), protocol=s.protocol(), read_timeout=s.sms_timeout_ms, connect_timeout=2000,
    ))


def reset() -> None:
    """Forget the settings and the client (tests that move the endpoint)."""
    get_sms_settings.cache_clear()
    _client.cache_clear()


def _runtime() -> Any:
    from darabonba.runtime import RuntimeOptions

    return RuntimeOptions(autoretry=False, max_attempts=1)


def _refusal(exc: Exception) -> SmsRefused:
    code = getattr(exc, "code", None)
    if code and code != "None":
        return SmsRefused(str(code), str(getattr(exc, "message", "")))
    return SmsRefused("network", type(exc).__name__)


def send(phone: str, template_code: str, params: dict[str, str], out_id: str) -> str:
    """SendSms; the provider's BizId. Raises SmsRefused (see `.retryable`)."""
    from alibabacloud_dysmsapi20170525 import models

    request = models.SendSmsRequest(
        phone_numbers=phone, sign_name=get_sms_settings().sms_sign_name, template_code=template_code,
        template_param=json.dumps(params, ensure_ascii=False), out_id=out_id,
    )
    try:
        body = _client().send_sms_with_options(request, _runtime()).body
    except Exception as exc:  # the SDK raises its own exception types for HTTP refusals and I/O errors
        raise _refusal(exc) from None
    if body.code != "OK":
        raise SmsRefused(str(body.code), str(body.message or ""))
    return str(body.biz_id)


def receipt(phone: str, biz_id: str, sent_on: date) -> Receipt:
    """QuerySendDetails of one message (by its BizId and the day it was sent)."""
    from alibabacloud_dysmsapi20170525 import models

    request = models.QuerySendDetailsRequest(
        phone_number=phone, biz_id=biz_id, send_date=sent_on.strftime("%Y%m%d"), page_size=10, current_page=1,
    )
    try:
        body = _client().query_send_details_with_options(request, _runtime()).body
    except Exception as exc:
        raise _refusal(exc) from None
    if body.code != "OK":
        raise SmsRefused(str(body.code), str(body.message or ""))
    rows = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
    if not rows:
        return Receipt("waiting", "", None)
    row = rows[0]
    status = {3: "delivered", 2: "undelivered"}.get(int(row.send_status or 1), "waiting")
    received = datetime.strptime(row.receive_date, "%Y-%m-%d %H:%M:%S") if row.receive_date else None
    return Receipt(status, str(row.err_code or ""), received)
