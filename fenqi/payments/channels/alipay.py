"""Alipay OpenAPI (RSA2) through python-alipay-sdk.

The SDK signs every request with our application key and verifies every response and
notification with Alipay's public key; only the gateway URL is ours to set (the SDK hard-codes the
production and sandbox ones, so we point its `_gateway` at FENQI_ALIPAY_GATEWAY).
"""

from __future__ import annotations

import urllib.error
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
from alipay import AliPay
from alipay.exceptions import AliPayException
from alipay.utils import AliPayConfig

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
from fenqi.payments.emulators.core import CST, yuan
from fenqi.payments.keys import channel_keys
from fenqi.payments.settings import PaymentSettings, get_payment_settings

STATUS = {"WAIT_BUYER_PAY": "pending", "TRADE_SUCCESS": "paid", "TRADE_FINISHED": "paid", "TRADE_CLOSED": "closed"}
AGREEMENT_STATUS = {"TEMP": "pending", "NORMAL": "active", "STOP": "stopped"}


def _fen(text: object) -> int:
    return int(Decimal(str(text or "0")) * 100)


def _cst(text: object) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)


class AlipayChannel:
    name = "alipay"
    ack_body = "success"
    ack_status = 200

    def __init__(self, client: AliPay, gateway: str, notify_url: str, timeout: float) -> None:
        self.client = client
        self.gateway = gateway
        self.notify_url = notify_url
        self.timeout = timeout

    @classmethod
    def from_settings(cls, settings: PaymentSettings | None = None) -> AlipayChannel:
        settings = settings or get_payment_settings()
        keys = channel_keys()
        notify_url = f"{settings.callback_base}/api/v1/payments/callbacks/alipay"
        client = AliPay(
            appid=settings.alipay_app_id,
            app_notify_url=notify_url,
            app_private_key_string=keys.alipay_app.private_pem,
            alipay_public_key_string=keys.alipay_platform.public_pem,
            sign_type="RSA2",
            config=AliPayConfig(timeout=int(settings.http_timeout_seconds)),
        )
        gateway = settings.gateway("alipay")
        client._gateway = gateway
        return cls(client, gateway, notify_url, settings.http_timeout_seconds)

    def _call(self, method: str, biz: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = self.client.server_api(method, biz, **kwargs)
        except AliPayException as exc:
            raise ChannelError(f"alipay {method}: {exc}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ChannelError(f"alipay {method}: {type(exc).__name__}") from None
        return result

    def create_payment(self, *, out_trade_no: str, amount_fen: int, subject: str, expire_at: datetime,
                       return_url: str = "", scene: str = "page", hb_fq: tuple[int, int] | None = None) -> str:
        expire = expire_at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
        # 花呗分期: Alipay's extend_params, both values as strings (as Alipay documents them).
        extra: dict[str, Any] = {} if hb_fq is None else {
            "extend_params": {"hb_fq_num": str(hb_fq[0]), "hb_fq_seller_percent": str(hb_fq[1])}}
        if scene == "qr":  # 当面付 precreate: the trade exists at once, the QR code is what the shopper scans
            r = self._call("alipay.trade.precreate", {"out_trade_no": out_trade_no, "total_amount": yuan(amount_fen),
                                                      "subject": subject, "time_expire": expire, **extra},
                           notify_url=self.notify_url)
            if r.get("code") != "10000":
                raise ChannelError(f"alipay precreate: {r.get('sub_code')}")
            return str(r["qr_code"])
        pay = self.client.api_alipay_trade_wap_pay if scene == "h5" else self.client.api_alipay_trade_page_pay
        signed = pay(subject, out_trade_no, yuan(amount_fen), return_url=return_url or None,
                     notify_url=self.notify_url, time_expire=expire, **extra)
        return f"{self.gateway}?{signed}"

    def query(self, out_trade_no: str) -> TradeInfo:
        r = self._call("alipay.trade.query", {"out_trade_no": out_trade_no})
        if r.get("code") != "10000":
            if r.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return TradeInfo(out_trade_no, "not_found")
            raise ChannelError(f"alipay query: {r.get('sub_code')}")
        return TradeInfo(out_trade_no, STATUS.get(str(r.get("trade_status")), "pending"), str(r.get("trade_no", "")),
                         _fen(r.get("total_amount")), _cst(r.get("send_pay_date")))

    def close(self, out_trade_no: str) -> bool:
        r = self._call("alipay.trade.close", {"out_trade_no": out_trade_no})
        if r.get("code") == "10000" or r.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return True
        if r.get("sub_code") == "ACQ.TRADE_STATUS_ERROR":
            return False
        raise ChannelError(f"alipay close: {r.get('sub_code')}")

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int,
               reason: str) -> RefundInfo:
        r = self._call("alipay.trade.refund", {"out_trade_no": out_trade_no, "refund_amount": yuan(amount_fen),
                                               "out_request_no": out_refund_no, "refund_reason": reason[:60]})
        if r.get("code") != "10000":
            log.info("payments.alipay.refund_refused", out_trade_no=out_trade_no, sub_code=r.get("sub_code"))
            return RefundInfo(out_refund_no, "failed", amount_fen=amount_fen,
                              error_code=str(r.get("sub_code") or r.get("code") or ""))
        # Alipay refunds synchronously; fund_change "N" on a repeated out_request_no means "already done".
        return RefundInfo(out_refund_no, "succeeded", str(r.get("trade_no", "")), amount_fen)

    def query_refund(self, *, out_trade_no: str, out_refund_no: str) -> RefundInfo | None:
        r = self._call("alipay.trade.fastpay.refund.query", {"out_trade_no": out_trade_no,
                                                               "out_request_no": out_refund_no})
        if r.get("code") != "10000" or not r.get("refund_amount"):
            return None
        status = "succeeded" if r.get("refund_status", "REFUND_SUCCESS") == "REFUND_SUCCESS" else "processing"
        return RefundInfo(out_refund_no, status, str(r.get("trade_no", "")), _fen(r.get("refund_amount")))

    def fetch_statement(self, day: date) -> bytes:
        r = self._call("alipay.data.dataservice.bill.downloadurl.query",
                       {"bill_type": "trade", "bill_date": day.isoformat()})
        if r.get("code") != "10000":
            raise ChannelError(f"alipay statement: {r.get('sub_code')}")
        try:
            resp = httpx.get(str(r["bill_download_url"]), timeout=self.timeout)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise ChannelError(f"alipay statement download: {type(exc).__name__}") from None
        return resp.content

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        data = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        signature = data.pop("sign", "")
        try:
            valid = bool(signature) and self.client.verify(dict(data), signature)
        except (AliPayException, ValueError, TypeError):
            valid = False
        if not valid or data.get("app_id") != self.client.appid:
            raise ForgedCallback()
        status = STATUS.get(data.get("trade_status", ""), "pending")
        trade_no = data.get("trade_no", "")
        kind = "payment" if status == "paid" else "payment_failed" if status == "closed" else "other"
        return Notification(
            kind=kind, event_id=payment_event_id(data.get("out_trade_no", ""), trade_no) if kind == "payment"
            else f"{data.get('trade_status', '')}:{data.get('out_trade_no', '')}:{trade_no}",
            out_trade_no=data.get("out_trade_no", ""), trade_no=trade_no,
            amount_fen=_fen(data.get("total_amount")), status=status, paid_at=_cst(data.get("gmt_payment")),
            payload=dict(data),
        )

    def agreement_sign_url(self, *, external_no: str, return_url: str = "") -> str:
        signed = self.client.client_api(
            "alipay.user.agreement.page.sign",
            {"personal_product_code": "GENERAL_WITHHOLDING_P", "sign_scene": "INDUSTRY|DIGITAL_MEDIA",
             "external_agreement_no": external_no, "access_params": {"channel": "ALIPAYAPP"}},
            return_url=return_url or None, notify_url=self.notify_url,
        )
        return f"{self.gateway}?{signed}"

    def query_agreement(self, external_no: str) -> AgreementInfo:
        r = self._call("alipay.user.agreement.query", {"personal_product_code": "GENERAL_WITHHOLDING_P",
                                                        "external_agreement_no": external_no})
        if r.get("code") != "10000":
            return AgreementInfo(external_no, "pending")
        return AgreementInfo(external_no, AGREEMENT_STATUS.get(str(r.get("status")), "pending"),
                             str(r.get("agreement_no", "")))

    def debit(self, *, agreement_no: str, out_trade_no: str, amount_fen: int, subject: str) -> TradeInfo:
        r = self._call("alipay.trade.pay", {
            "out_trade_no": out_trade_no, "total_amount": yuan(amount_fen), "subject": subject,
            "product_code": "GENERAL_WITHHOLDING", "agreement_params": {"agreement_no": agreement_no},
        }, notify_url=self.notify_url)
        if r.get("code") != "10000":
            return TradeInfo(out_trade_no, "failed", reason=str(r.get("sub_code", "")))
        return TradeInfo(out_trade_no, STATUS.get(str(r.get("trade_status")), "pending"), str(r.get("trade_no", "")),
                         _fen(r.get("total_amount")), _cst(r.get("gmt_payment")))
