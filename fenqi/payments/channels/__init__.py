"""Channel adapters: Alipay (python-alipay-sdk, RSA2) and WeChat Pay v3 (wechatpayv3, public-key mode)."""

from __future__ import annotations

from functools import lru_cache

from fenqi.kit.errors import InvalidInput
from fenqi.payments.channels.alipay import AlipayChannel
from fenqi.payments.channels.base import (
    AgreementInfo,
    Channel,
    ChannelError,
    ForgedCallback,
    Notification,
    RefundInfo,
    TradeInfo,
)
from fenqi.payments.channels.wechatpay import WechatPayChannel

CHANNELS = ("alipay", "wechatpay")

__all__ = ["CHANNELS", "AgreementInfo", "Channel", "ChannelError", "ForgedCallback", "Notification",
           "RefundInfo", "TradeInfo", "get_channel", "reset_channels"]


@lru_cache
def get_channel(name: str) -> Channel:
    """The adapter for a channel, built from settings once per process."""
    if name == "alipay":
        return AlipayChannel.from_settings()
    if name == "wechatpay":
        return WechatPayChannel.from_settings()
    raise InvalidInput.saying(f"支付渠道 {name!r} 无效（alipay 支付宝 | wechatpay 微信支付）",
                              f"channel {name!r}: alipay | wechatpay")


def reset_channels() -> None:
    """Forget built adapters (after settings change, e.g. in tests)."""
    get_channel.cache_clear()
