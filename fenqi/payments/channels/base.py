"""One interface over both payment channels: what Fenqi needs from Alipay and WeChat Pay."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from fenqi.kit.errors import DomainError


class ChannelError(DomainError):
    """The channel refused a request or could not be reached."""

    code = "payment_channel_error"
    status = 502
    zh = "支付渠道处理失败：{detail}"
    en = "The payment channel failed: {detail}"


class ForgedCallback(DomainError):
    code = "invalid_callback_signature"
    status = 400
    zh = "回调签名无效"
    en = "The callback signature is invalid"


@dataclass(frozen=True)
class TradeInfo:
    """A trade as the channel reports it. status: pending | paid | closed | failed | not_found."""

    out_trade_no: str
    status: str
    trade_no: str = ""
    amount_fen: int = 0
    paid_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class RefundInfo:
    """status: processing | succeeded | failed (then error_code: the channel's reason, e.g.
    ACQ.TRADE_NOT_EXIST)."""

    out_refund_no: str
    status: str
    refund_no: str = ""
    amount_fen: int = 0
    error_code: str = ""


@dataclass(frozen=True)
class AgreementInfo:
    """An auto-debit agreement (支付宝商户代扣 / 微信委托代扣). status: pending | active | stopped."""

    external_no: str
    status: str
    agreement_no: str = ""


def payment_event_id(out_trade_no: str, trade_no: str) -> str:
    """The inbox key of "this trade was paid": the same for every copy and retry of the notification,
    for the result of a query and for an auto-debit's synchronous answer."""
    return f"pay:{out_trade_no}:{trade_no}"


@dataclass(frozen=True)
class Notification:
    """A verified, decrypted notification. `event_id` is stable across retries and copies of one
    event (the inbox's unique key); kind: payment | payment_failed | refund."""

    kind: str
    event_id: str
    out_trade_no: str
    trade_no: str
    amount_fen: int
    status: str
    paid_at: datetime | None
    payload: dict[str, object]
    out_refund_no: str = ""


class Channel(Protocol):
    name: str
    #: What the channel expects as the body of a successful acknowledgement.
    ack_body: str
    ack_status: int

    def create_payment(self, *, out_trade_no: str, amount_fen: int, subject: str, expire_at: datetime,
                       return_url: str = "", scene: str = "page", hb_fq: tuple[int, int] | None = None) -> str:
        """Open a payment and return where the shopper pays: scene "page" or "h5" → a URL to open,
        "qr" → the QR code's content. `hb_fq`: (periods, seller percent) to pay with 花呗分期 (Alipay)."""
        ...

    def query(self, out_trade_no: str) -> TradeInfo: ...

    def close(self, out_trade_no: str) -> bool:
        """Close an unpaid trade; False when the channel says it is already paid."""
        ...

    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int,
               reason: str) -> RefundInfo: ...

    def query_refund(self, *, out_trade_no: str, out_refund_no: str) -> RefundInfo | None: ...

    def fetch_statement(self, day: date) -> bytes:
        """The day's statement file as the channel serves it (zip for Alipay, text or gzip for WeChat)."""
        ...

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify the signature (raise ForgedCallback otherwise) and decode the notification."""
        ...

    def agreement_sign_url(self, *, external_no: str, return_url: str = "") -> str: ...

    def query_agreement(self, external_no: str) -> AgreementInfo: ...

    def debit(self, *, agreement_no: str, out_trade_no: str, amount_fen: int, subject: str) -> TradeInfo:
        """Debit a signed agreement. Alipay answers at once; WeChat accepts and notifies (pending)."""
        ...
