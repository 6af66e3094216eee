"""Demo set-up for payments: the channel keys (generated once, locally) and where things are."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fenqi.payments.keys import channel_keys
from fenqi.payments.settings import get_payment_settings


def seed(session: Session) -> list[str]:
    settings = get_payment_settings()
    channel_keys()  # RSA 2048 pairs for both channels, so that the first payment does not wait for them
    if settings.env == "production":
        return []
    return [
        f"payment gateways: Alipay {settings.gateway('alipay')}, WeChat Pay {settings.gateway('wechatpay')}/v3 "
        f"(local emulators driven by the real SDKs; keys in {settings.payment_keys_dir}/)",
        f"pay something: {settings.base_url.rstrip('/')}/payments/demo (signed in); statements: fenqi reconcile",
    ]
