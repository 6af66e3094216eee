"""WeChat Pay API v3 (public-key mode) through wechatpayv3.

The SDK signs the Authorization header with our merchant key and verifies every answer and
notification against the platform public key (`public_key` + `public_key_id`), so no platform
certificate download is involved. The gateway is ours to set (`_core._gate_way`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import requests
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.type import RequestType

from fenqi.kit.log import log
from fenqi.payments.channels.base import (
    AgreementInfo,
    ChannelError,
    ForgedCallback,
    Notification,
    RefundInfo,
    TradeInfo,
    payment_event_id,
)
from fenqi.payments.emulators.core import CST
from fenqi.payments.keys import channel_keys
from fenqi.payments.settings import PaymentSettings, get_payment_settings

STATUS = {"SUCCESS": "paid", "REFUND": "paid", "NOTPAY": "pending", "USERPAYING": "pending", "ACCEPT": "pending",
          "CLOSED": "closed", "REVOKED": "closed", "PAYERROR": "failed"}
REFUND_STATUS = {"SUCCESS": "succeeded", "PROCESSING": "processing", "CLOSED": "failed", "ABNORMAL": "failed"}
CONTRACT_STATUS = {"SIGNED": "active", "UNSIGNED": "pending", "TERMINATED": "stopped"}


def _time(text: object) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None


# How far a notification's signing time may be from ours (either way), in seconds.
TIMESTAMP_WINDOW_SECONDS = 300


def fresh_timestamp(raw: str, now: float | None = None) -> bool:
    """`Wechatpay-Timestamp` (Unix seconds) within TIMESTAMP_WINDOW_SECONDS of now."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        return False
    return abs((time.time() if now is None else now) - int(raw)) <= TIMESTAMP_WINDOW_SECONDS


class WechatPayChannel:
    name = "wechatpay"
    ack_body = ""
    ack_status = 204

    def __init__(self, client: WeChatPay, settings: PaymentSettings, notify_url: str) -> None:
        self.client = client
        self.settings = settings
        self.notify_url = notify_url

    @classmethod
    def from_settings(cls, settings: PaymentSettings | None = None) -> WechatPayChannel:
        settings = settings or get_payment_settings()
        keys = channel_keys()
        notify_url = f"{settings.callback_base}/api/v1/payments/callbacks/wechatpay"
        client = WeChatPay(
            wechatpay_type=WeChatPayType.H5, mchid=settings.wechatpay_mchid,
            private_key=keys.wechatpay_merchant.private_pem,
            cert_serial_no=settings.wechatpay_cert_serial_no, appid=settings.wechatpay_appid,
            apiv3_key=settings.wechatpay_apiv3_key, notify_url=notify_url,
            public_key=keys.wechatpay_platform.public_pem, public_key_id=settings.wechatpay_public_key_id,
            timeout=(5, settings.http_timeout_seconds),
        )
        client._core._gate_way = settings.gateway("wechatpay")
        return cls(client, settings, notify_url)

    def _request(self, call: Any, *args: Any, **kwargs: Any) -> tuple[int, Any]:
        try:
            code, body = call(*args, **kwargs)
        except requests.RequestException as exc:
            raise ChannelError(f"wechatpay: {type(exc).__name__}") from None
        except Exception as exc:  # the SDK raises a bare Exception when a response signature is wrong
            raise ChannelError(f"wechatpay: {exc}") from None
        if isinstance(body, str) and body:
            try:
                return int(code), json.loads(body)
            except json.JSONDecodeError:
                return int(code), {}
        return int(code), body if isinstance(body, bytes) else {}

    def create_payment(self, *, out_trade_no: str, amount_fen: int, subject: str, expire_at: datetime,
                       return_url: str = "", scene: str = "page", hb_fq: tuple[int, int] | None = None) -> str:
        """H5 for page and h5 (WeChat has no desktop page payment), Native (a QR code URL) for qr."""
        if hb_fq is not None:
            raise ChannelError("wechatpay: 花呗分期 is Alipay's")
        qr = scene == "qr"
        code, body = self._request(
            self.client.pay, description=subject[:127], out_trade_no=out_trade_no, amount={"total": amount_fen},
            pay_type=WeChatPayType.NATIVE if qr else WeChatPayType.H5,
            scene_info=None if qr else {"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}},
            time_expire=expire_at.astimezone(CST).isoformat(timespec="seconds"),
        )
        field = "code_url" if qr else "h5_url"
        if code != 200 or field not in body:
            raise ChannelError(f"wechatpay pay: {code} {body.get('code', '') if isinstance(body, dict) else ''}")
        url = str(body[field])
        if qr:
            return url
        # H5 payments return to the merchant page through `redirect_url` appended to h5_url.
        return url if not return_url else f"{url}?redirect_url={return_url}"

    def query(self, out_trade_no: str) -> TradeInfo:
        code, body = self._request(self.client.query, out_trade_no=out_trade_no)
        if code == 404:
            return TradeInfo(out_trade_no, "not_found")
        if code != 200:
            raise ChannelError(f"wechatpay query: {code}")
        return TradeInfo(out_trade_no, STATUS.get(str(body.get("trade_state")), "pending"),
                         str(body.get("transaction_id", "")), int((body.get("amount") or {}).get("total", 0)),
                         _time(body.get("success_time")))

    def close(self, out_trade_no: str) -> bool:
        code, body = self._request(self.client.close, out_trade_no)
        if code in (204, 404):
            return True
        if code == 400 and isinstance(body, dict) and body.get("code") == "ORDERPAID":
            return False
        raise ChannelError(f"wechatpay close: {code}")

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int,
               reason: str) -> RefundInfo:
        code, body = self._request(self.client.refund, out_refund_no=out_refund_no, out_trade_no=out_trade_no,
                                   amount={"refund": amount_fen, "total": total_fen, "currency": "CNY"},
                                   reason=reason[:80], notify_url=self.notify_url)
        if code != 200:
            log.info("payments.wechatpay.refund_refused", out_trade_no=out_trade_no, code=code)
            return RefundInfo(out_refund_no, "failed", amount_fen=amount_fen,
                              error_code=str(body.get("code", "")) if isinstance(body, dict) else str(code))
        return RefundInfo(out_refund_no, REFUND_STATUS.get(str(body.get("status")), "processing"),
                          str(body.get("refund_id", "")), int((body.get("amount") or {}).get("refund", amount_fen)))

    def query_refund(self, *, out_trade_no: str, out_refund_no: str) -> RefundInfo | None:
        code, body = self._request(self.client.query_refund, out_refund_no)
        if code != 200:
            return None
        return RefundInfo(out_refund_no, REFUND_STATUS.get(str(body.get("status")), "processing"),
                          str(body.get("refund_id", "")), int((body.get("amount") or {}).get("refund", 0)))

    def fetch_statement(self, day: date) -> bytes:
        code, body = self._request(self.client.trade_bill, bill_date=day.isoformat(), bill_type="ALL",
                                   tar_type="GZIP")
        if code != 200:
            raise ChannelError(f"wechatpay trade bill: {code}")
        code, content = self._request(self.client.download_bill, str(body["download_url"]))
        if code != 200 or not isinstance(content, bytes):
            raise ChannelError(f"wechatpay bill download: {code}")
        text = gzip.decompress(content)
        # The bill's digest is announced with the download URL: a corrupted file must not be reconciled.
        if hashlib.sha1(text).hexdigest() != str(body.get("hash_value", "")).lower():
            raise ChannelError("wechatpay bill digest mismatch")
        return text

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        lowered = {k.lower(): v for k, v in headers.items()}
        # A wrong serial would make the SDK go and fetch platform certificates: refuse it up front.
        if lowered.get("wechatpay-serial") != self.settings.wechatpay_public_key_id:
            raise ForgedCallback()
        # A signature proves who signed, not when the request was sent: a captured notification
        # replayed days later would verify. WeChat Pay signs every delivery afresh; outside the window
        # its own SDK guidance is to refuse (copies within it are deduplicated by the inbox).
        if not fresh_timestamp(lowered.get("wechatpay-timestamp", "")):
            log.warning("payments.callback.stale", channel="wechatpay",
                        timestamp=lowered.get("wechatpay-timestamp", "")[:20])
            raise ForgedCallback()
        try:
            data = self.client.callback(lowered, body.decode("utf-8"))
        except Exception:  # the SDK raises bare exceptions for unknown algorithms and bad payloads
            data = None
        if not data:
            raise ForgedCallback()
        resource: dict[str, Any] = data.get("resource") or {}
        event = str(data.get("event_type", ""))
        if event.startswith("REFUND."):
            return Notification(
                kind="refund", event_id=f"refund:{resource.get('refund_id', '')}:{resource.get('refund_status')}",
                out_trade_no=str(resource.get("out_trade_no", "")), trade_no=str(resource.get("transaction_id", "")),
                amount_fen=int((resource.get("amount") or {}).get("refund", 0)),
                status=REFUND_STATUS.get(str(resource.get("refund_status")), "processing"), paid_at=None,
                payload=data, out_refund_no=str(resource.get("out_refund_no", "")),
            )
        status = STATUS.get(str(resource.get("trade_state")), "pending")
        trade_no = str(resource.get("transaction_id", ""))
        out_trade_no = str(resource.get("out_trade_no", ""))
        kind = "payment" if status == "paid" else "payment_failed" if status in ("failed", "closed") else "other"
        return Notification(
            kind=kind, event_id=payment_event_id(out_trade_no, trade_no) if kind == "payment"
            else f"{resource.get('trade_state', '')}:{out_trade_no}:{trade_no}",
            out_trade_no=out_trade_no, trade_no=trade_no,
            amount_fen=int((resource.get("amount") or {}).get("total", 0)), status=status,
            paid_at=_time(resource.get("success_time")), payload=data,
        )

    def agreement_sign_url(self, *, external_no: str, return_url: str = "") -> str:
        code, body = self._request(self.client._core.request, "/v3/papay/sign/contracts/pre-entrust-sign/h5",
                                   method=RequestType.POST, data={
                                       "appid": self.settings.wechatpay_appid,
                                       "plan_id": self.settings.wechatpay_papay_plan_id,
                                       "out_contract_code": external_no, "contract_display_account": "分期月供",
                                       "notify_url": self.notify_url, "return_url": return_url})
        if code != 200:
            raise ChannelError(f"wechatpay contract: {code}")
        return str(body["redirect_url"])

    def query_agreement(self, external_no: str) -> AgreementInfo:
        path = (f"/v3/papay/sign/contracts/plan-id/{self.settings.wechatpay_papay_plan_id}/out-contract-code/"
                f"{external_no}?appid={self.settings.wechatpay_appid}")
        code, body = self._request(self.client._core.request, path)
        if code != 200:
            return AgreementInfo(external_no, "pending")
        return AgreementInfo(external_no, CONTRACT_STATUS.get(str(body.get("contract_state")), "pending"),
                             str(body.get("contract_id", "")))

    def debit(self, *, agreement_no: str, out_trade_no: str, amount_fen: int, subject: str) -> TradeInfo:
        code, body = self._request(self.client._core.request, "/v3/papay/pay/transactions/apply",
                                   method=RequestType.POST, data={
                                       "appid": self.settings.wechatpay_appid, "out_trade_no": out_trade_no,
                                       "description": subject[:127], "contract_id": agreement_no,
                                       "notify_url": self.notify_url,
                                       "amount": {"total": amount_fen, "currency": "CNY"}})
        if code != 204:
            reason = body.get("code", "") if isinstance(body, dict) else ""
            return TradeInfo(out_trade_no, "failed", reason=str(reason or code))
        # Accepted: the result arrives as a notification (or is found by polling).
        return TradeInfo(out_trade_no, "pending")
