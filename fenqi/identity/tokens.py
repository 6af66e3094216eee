"""Random secrets and their hashes: session tokens, API keys, one-time codes, CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fenqi.kit.settings import get_settings

API_KEY_PREFIX = "fq_"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def keyed_hash(purpose: str, value: str) -> str:
    """HMAC under the app's secret: used where the secret has little entropy (a 6-digit code) and a
    plain hash could be brute-forced from a leaked table."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def new_api_key() -> tuple[str, str]:
    """(the full key shown once, its short public prefix for listings)."""
    prefix = secrets.token_hex(4)
    return f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def new_otp_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def csrf_token_for(anchor: str) -> str:
    """The CSRF token of a browser: bound to its session (or pre-login) cookie, so another site can
    neither read nor forge it."""
    return keyed_hash("csrf", anchor)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
