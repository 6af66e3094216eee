"""Key material of both channels.

Real deployments configure every key (PEM) in settings. For the demo and the tests, RSA 2048 key
pairs are generated locally with `cryptography` — never downloaded — and kept in
FENQI_PAYMENT_KEYS_DIR so that an emulator running in another process signs with the same keys:

- alipay_app: our application's key (we sign requests, the emulator verifies);
- alipay_platform: "Alipay's" key (the emulator signs responses and notifications, we verify);
- wechatpay_merchant: our merchant API key (we sign the Authorization header);
- wechatpay_platform: "WeChat Pay's" platform public key (public-key mode: signs responses/callbacks).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fenqi.payments.settings import PaymentSettings, get_payment_settings

NAMES = ("alipay_app", "alipay_platform", "wechatpay_merchant", "wechatpay_platform")
_lock = threading.Lock()


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def _generate() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return KeyPair(private_pem, public_pem)


def _public_of(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _load_or_create(directory: Path, name: str) -> KeyPair:
    path = directory / f"{name}.pem"
    with _lock:
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            pair = _generate()
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(pair.private_pem)
            os.chmod(tmp, 0o600)
            # A rename is atomic: two processes starting together end up with one key, not a torn file.
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        private_pem = path.read_text()
    return KeyPair(private_pem, _public_of(private_pem))


@dataclass(frozen=True)
class ChannelKeys:
    alipay_app: KeyPair
    alipay_platform: KeyPair
    wechatpay_merchant: KeyPair
    wechatpay_platform: KeyPair


def _configured(private_pem: str, public_pem: str, directory: Path, name: str) -> KeyPair:
    if private_pem:
        return KeyPair(private_pem, _public_of(private_pem))
    if public_pem:
        # Only the public half is known (a real channel's key): the private half stays with the channel.
        return KeyPair("", public_pem)
    return _load_or_create(directory, name)


def load_keys(settings: PaymentSettings) -> ChannelKeys:
    directory = Path(settings.payment_keys_dir)
    return ChannelKeys(
        alipay_app=_configured(settings.alipay_app_private_key, "", directory, "alipay_app"),
        alipay_platform=_configured("", settings.alipay_public_key, directory, "alipay_platform"),
        wechatpay_merchant=_configured(settings.wechatpay_private_key, "", directory, "wechatpay_merchant"),
        wechatpay_platform=_configured("", settings.wechatpay_public_key, directory, "wechatpay_platform"),
    )


@lru_cache
def channel_keys() -> ChannelKeys:
    return load_keys(get_payment_settings())
