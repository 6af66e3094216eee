"""Payment settings (FENQI_* environment variables): gateways, ids and keys of each channel.

Demo and test runs leave the keys empty: `fenqi.payments.keys` then generates RSA 2048 key pairs
once into FENQI_PAYMENT_KEYS_DIR and both our adapters and the local emulators read them from there.
Production sets every key explicitly and points the gateways at the real channels.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fenqi.kit.settings import Environment, parse_environment, short_secret
from fenqi.pricing.platform import DEFAULT_FEE_RATES, parse_fee_rates

_DEMO_APIV3_KEY = "fenqiDemoApiV3Key0123456789abcde"


class PaymentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FENQI_", env_file=None, extra="ignore")

    env: Environment = Environment.DEMO
    base_url: str = "http://127.0.0.1:8000"
    # Where the gateway emulators live; `fenqi demo` mounts them under these paths of its own server.
    alipay_gateway: str = ""
    wechatpay_gateway: str = ""
    # Where the channels send notifications: our public base URL (defaults to FENQI_BASE_URL).
    notify_base_url: str = ""

    alipay_app_id: str = "2021000000000001"
    alipay_seller_id: str = "2088000000000001"
    alipay_app_private_key: str = ""
    alipay_public_key: str = ""

    wechatpay_mchid: str = "1900000001"
    wechatpay_appid: str = "wx0000000000000001"
    wechatpay_apiv3_key: str = _DEMO_APIV3_KEY  # exactly 32 bytes
    wechatpay_cert_serial_no: str = "5F0E1D2C3B4A59687766554433221100FEDCBA98"
    wechatpay_private_key: str = ""
    wechatpay_public_key: str = ""
    wechatpay_public_key_id: str = "PUB_KEY_ID_0119000000012026112800000000000001"
    wechatpay_papay_plan_id: str = "100001"  # the 委托代扣 template (plan) our contracts are signed under

    payment_keys_dir: str = ".fenqi-keys"
    payment_order_ttl_minutes: int = 30
    # The emulators' notification retry schedule is multiplied by this (tests compress it).
    emulator_retry_scale: float = 1.0
    http_timeout_seconds: float = 10.0
    # Where the emulators keep trades and agreements: "db" (default in the demo) or "memory" (elsewhere).
    emulator_state: str = ""
    # 花呗分期 fee tables, "periods:percent of the amount": ours (the contract with Alipay, what
    # reconciliation expects and the cashier shows) and the emulated Alipay's (what it charges).
    alipay_hb_fee_rates: str = DEFAULT_FEE_RATES
    emulator_hb_fee_rates: str = DEFAULT_FEE_RATES
    # Measured routing at the cashier (fenqi/payments/routing.py): off by default. The window in minutes,
    # the fewest orders with an outcome for a rate to count, the success rate below which a channel is
    # left out, and the share of shoppers (0–1) who see every channel, least successful first.
    cashier_routing: bool = False
    cashier_routing_window_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    cashier_routing_min_orders: int = Field(default=20, ge=1)
    cashier_routing_threshold: Decimal = Field(default=Decimal("0.80"), ge=0, le=1)
    cashier_routing_exploration: Decimal = Field(default=Decimal("0.05"), ge=0, le=1)

    @field_validator("alipay_hb_fee_rates", "emulator_hb_fee_rates")
    @classmethod
    def _fee_table(cls, value: str) -> str:
        parse_fee_rates(value)
        return value

    def hb_fee_rates(self) -> dict[int, Decimal]:
        return parse_fee_rates(self.alipay_hb_fee_rates)

    @field_validator("env", mode="before")
    @classmethod
    def _known_environment(cls, value: Any) -> Environment:
        return parse_environment(value)

    @model_validator(mode="after")
    def _production_needs_real_keys(self) -> PaymentSettings:
        if self.env == Environment.PRODUCTION:
            missing = [
                name
                for name, value in (
                    ("FENQI_ALIPAY_GATEWAY", self.alipay_gateway),
                    ("FENQI_ALIPAY_APP_PRIVATE_KEY", self.alipay_app_private_key),
                    ("FENQI_ALIPAY_PUBLIC_KEY", self.alipay_public_key),
                    ("FENQI_WECHATPAY_GATEWAY", self.wechatpay_gateway),
                    ("FENQI_WECHATPAY_PRIVATE_KEY", self.wechatpay_private_key),
                    ("FENQI_WECHATPAY_PUBLIC_KEY", self.wechatpay_public_key),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"production needs payment settings: {', '.join(missing)}")
            # The emulators answer anyone with a signature of their own demo keys: never in production.
            emulated = [name for name, value in (("FENQI_ALIPAY_GATEWAY", self.alipay_gateway),
                                                 ("FENQI_WECHATPAY_GATEWAY", self.wechatpay_gateway))
                        if "/_emulator/" in value]
            if emulated:
                raise ValueError(f"production cannot use the gateway emulators: {', '.join(emulated)}")
            problem = short_secret("FENQI_WECHATPAY_APIV3_KEY", self.wechatpay_apiv3_key, _DEMO_APIV3_KEY)
            if problem:
                raise ValueError(f"production settings refused: {problem}")
        if len(self.wechatpay_apiv3_key.encode()) != 32:
            raise ValueError("FENQI_WECHATPAY_APIV3_KEY must be 32 bytes")
        return self

    @property
    def callback_base(self) -> str:
        return (self.notify_base_url or self.base_url).rstrip("/")

    def gateway(self, channel: str) -> str:
        """The emulators mounted on our own server unless a gateway is configured."""
        configured = self.alipay_gateway if channel == "alipay" else self.wechatpay_gateway
        if configured:
            return configured.rstrip("/")
        root = f"{self.base_url.rstrip('/')}/_emulator/{channel}"
        return f"{root}/gateway.do" if channel == "alipay" else root


@lru_cache
def get_payment_settings() -> PaymentSettings:
    return PaymentSettings()
