"""Personal data (PIPL): encryption at rest and masking for pages and logs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fenqi.kit.settings import get_settings


def _key() -> bytes:
    raw = get_settings().pii_key.encode()
    # Any configured secret is stretched to a 256-bit key; the key itself never leaves settings.
    return hashlib.sha256(b"fenqi-pii-v1" + raw).digest()


def encrypt(plaintext: str) -> str:
    """AES-256-GCM with a random nonce; the result is ASCII, fit for a text column."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, plaintext.encode(), b"fenqi-pii")
    return "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token.startswith("v1:"):
        raise ValueError("unknown PII token version")
    blob = base64.urlsafe_b64decode(token[3:])
    return AESGCM(_key()).decrypt(blob[:12], blob[12:], b"fenqi-pii").decode()


def blind_index(value: str) -> str:
    """A keyed hash for equality lookups (one open application per ID number) without decrypting."""
    return hmac.new(_key(), value.strip().upper().encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """110105199001011234 → 1101**********1234"""
    return value[:4] + "*" * max(len(value) - 8, 0) + value[-4:] if len(value) > 8 else "****"


def mask_phone(value: str) -> str:
    """13812345678 → 138****5678"""
    return value[:3] + "****" + value[-4:] if len(value) >= 7 else "****"


def mask_name(value: str) -> str:
    """张三丰 → 张**"""
    return value[:1] + "*" * (len(value) - 1) if value else ""


def mask_card(value: str) -> str:
    """6222021234567890123 → **** **** **** 0123"""
    return "**** **** **** " + value[-4:] if len(value) >= 4 else "****"
