"""A local emulator of Alibaba Cloud SMS (Dysmsapi 2017-05-25) for the demo and tests.

It answers the SDK's RPC calls as the provider does — SendSms and QuerySendDetails, signed with
ACS3-HMAC-SHA256 under our configured AccessKey (a wrong signature is refused like the provider
refuses it) — and keeps the messages it took in memory: the handset's inbox. Faults are injected by
tests and the demo through `SmsEmulator.inject`: flow control (HTTP 400 `Throttling.User`), the
provider down (HTTP 503 `ServiceUnavailable`), an illegal number (`isv.MOBILE_NUMBER_ILLEGAL`), or a
handset that never receives (delivery receipt `SendStatus=2`, `ErrCode=MOBILE_NOT_ON_SERVICE`).
Never mounted in production (fenqi.identity.api).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fenqi.identity.sms import get_sms_settings

_BEIJING = ZoneInfo("Asia/Shanghai")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
FAULTS = ("throttle", "down", "illegal", "undeliverable")


@dataclass
class SentSms:
    biz_id: str
    phone: str
    sign_name: str
    template_code: str
    params: dict[str, str]
    out_id: str
    sent_at: datetime
    delivered: bool = True


@dataclass
class SmsEmulator:
    messages: list[SentSms] = field(default_factory=list)
    faults: deque[str] = field(default_factory=deque)
    requests: int = 0
    # The AccessKey the provider knows (our settings when the emulator starts).
    key_id: str = ""
    key_secret: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, *faults: str) -> None:
        """Queue faults, one per coming SendSms call, in order."""
        for f in faults:
            if f not in FAULTS:
                raise ValueError(f"unknown fault {f}; one of {FAULTS}")
        with self.lock:
            self.faults.extend(faults)

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.faults.clear()
            self.requests = 0

    def inbox(self, phone: str) -> list[SentSms]:
        with self.lock:
            return [m for m in self.messages if m.phone == phone]


def _canonical_query(query: dict[str, str]) -> str:
    return "&".join(f"{k}={quote(query[k], safe='~', encoding='utf-8')}" for k in sorted(query))


def _signature_ok(emu: SmsEmulator, request: Request, query: dict[str, str], body: bytes) -> bool:
    """ACS3-HMAC-SHA256 over the canonical request, as the provider checks it."""
    auth = request.headers.get("authorization", "")
    m = re.fullmatch(r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)", auth)
    if not m or m.group(1) != emu.key_id:
        return False
    signed = m.group(2).split(";")
    if "host" not in signed or "x-acs-date" not in signed:
        return False
    payload = hashlib.sha256(body).hexdigest()
    if request.headers.get("x-acs-content-sha256") != payload:
        return False
    headers = "".join(f"{h}:{request.headers.get(h, '').strip()}\n" for h in signed)
    canonical = f"{request.method}\n/\n{_canonical_query(query)}\n{headers}\n{';'.join(signed)}\n{payload}"
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    expected = hmac.new(emu.key_secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, m.group(3))


def _answer(code: str, message: str, status: int = 200, **extra: object) -> JSONResponse:
    return JSONResponse({"RequestId": uuid.uuid4().hex.upper(), "Code": code, "Message": message, **extra},
                        status_code=status)


def create_app() -> Starlette:
    settings = get_sms_settings()
    emu = SmsEmulator(key_id=settings.sms_access_key_id, key_secret=settings.sms_access_key_secret)

    async def rpc(request: Request) -> JSONResponse:
        body = await request.body()
        query = dict(request.query_params)
        if not _signature_ok(emu, request, query, body):
            return _answer("SignatureDoesNotMatch", "Specified signature does not match our calculation.", 400)
        action = request.headers.get("x-acs-action", "")
        with emu.lock:
            emu.requests += 1
        if action == "SendSms":
            return _send(emu, query)
        if action == "QuerySendDetails":
            return _details(emu, query)
        return _answer("InvalidAction.NotFound", f"Specified api is not found: {action}", 404)

    app = Starlette(routes=[Route("/", rpc, methods=["POST"])])
    app.state.emulator = emu
    return app


def _send(emu: SmsEmulator, q: dict[str, str]) -> JSONResponse:
    with emu.lock:
        fault = emu.faults.popleft() if emu.faults else None
    if fault == "throttle":
        return _answer("Throttling.User", "Request was denied due to user flow control.", 400)
    if fault == "down":
        return _answer("ServiceUnavailable", "The request has failed due to a temporary failure of the server.", 503)
    phone = q.get("PhoneNumbers", "")
    if fault == "illegal" or not _MOBILE.fullmatch(phone):
        return _answer("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
    if not q.get("SignName") or not q.get("TemplateCode"):
        return _answer("isv.SMS_SIGNATURE_ILLEGAL", "签名或模板不合法")
    try:
        params = json.loads(q.get("TemplateParam") or "{}")
    except json.JSONDecodeError:
        return _answer("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
    biz_id = f"{uuid.uuid4().int % 10**15:015d}^0"
    msg = SentSms(biz_id, phone, q["SignName"], q["TemplateCode"], {k: str(v) for k, v in params.items()},
                  q.get("OutId", ""), datetime.now(_BEIJING), delivered=fault != "undeliverable")
    with emu.lock:
        emu.messages.append(msg)
    return _answer("OK", "OK", BizId=biz_id)


def _details(emu: SmsEmulator, q: dict[str, str]) -> JSONResponse:
    phone, biz_id, day = q.get("PhoneNumber", ""), q.get("BizId", ""), q.get("SendDate", "")
    with emu.lock:
        found = [m for m in emu.messages if m.phone == phone and (not biz_id or m.biz_id == biz_id)
                 and m.sent_at.strftime("%Y%m%d") == day]
    rows = [{
        "PhoneNum": m.phone, "SendStatus": 3 if m.delivered else 2,
        "ErrCode": "DELIVERED" if m.delivered else "MOBILE_NOT_ON_SERVICE", "TemplateCode": m.template_code,
        "Content": json.dumps(m.params, ensure_ascii=False), "OutId": m.out_id,
        "SendDate": m.sent_at.strftime("%Y-%m-%d %H:%M:%S"), "ReceiveDate": m.sent_at.strftime("%Y-%m-%d %H:%M:%S"),
    } for m in found]
    return _answer("OK", "OK", TotalCount=len(rows), SmsSendDetailDTOs={"SmsSendDetailDTO": rows})
