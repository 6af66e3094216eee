"""Redaction of secrets and personal data from anything that leaves for a log or a listing.

Two layers, because neither alone is enough:
* by key: a value whose key names a secret (password, token, API key, Authorization/Cookie header,
  one-time code) or a personal field (ID number, name, phone, bank card, address) is replaced whole,
  at any depth of nested dicts, lists and tuples;
* by pattern: inside every string (messages, exception texts, URLs) what is recognizable is replaced —
  18-digit ID numbers, 11-digit mainland mobile numbers, 13–19-digit card numbers, API keys
  (`fq_…`), `Bearer …` credentials, and `secret=…`-style pairs in query strings.

The patterns err on the side of hiding: a card number with a bad check digit or an ID number with an
impossible birth date is personal data all the same (a failed application is exactly where such
values appear), so no checksum is required.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

REDACTED = "[redacted]"

# Keys compared after lower-casing and turning "-" into "_".
_SECRET_PARTS = ("password", "passwd", "secret", "token", "api_key", "apikey", "authorization", "cookie",
                 "credential", "private_key", "signature", "id_number", "bank_card", "card_no", "card_number",
                 "phone", "mobile", "address", "otp")
_SECRET_KEYS = frozenset({"key", "code", "sign", "name", "full_name", "real_name", "display_name", "card",
                          "x_csrf_token", "csrf_token", "x_api_key", "recipient", "body"})
# `code` is also a harmless error code ("invalid_input"): only a value made of digits is a one-time code.
_DIGITS_ONLY_KEYS = frozenset({"code"})

_ID_NUMBER = r"(?<![0-9A-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
_MOBILE = r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"
_CARD = r"(?<![0-9A-Za-z])\d{4}(?:[- ]?\d){9,15}(?!\d)"
_API_KEY = r"fq_[0-9a-f]{8}_[A-Za-z0-9_\-]{8,}"
_BEARER = r"(?i:\b(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=\-]{8,}"
_QUERY_SECRET = (r"(?i)(?P<qk>[?&;\s\"']?(?:[a-z_]*(?:password|secret|token|api_?key|key|code|otp|sign|signature|"
                 r"phone|mobile|id_number|card))=)(?P<qv>[^&\s\"';,]+)")

_PATTERNS = [re.compile(p) for p in (_API_KEY, _BEARER, _ID_NUMBER, _CARD, _MOBILE)]
_QUERY = re.compile(_QUERY_SECRET)


def sensitive_key(key: object) -> bool:
    name = str(key).lower().replace("-", "_")
    return name in _SECRET_KEYS or any(part in name for part in _SECRET_PARTS)


def redact_text(text: str) -> str:
    """The string with every recognizable secret or personal number replaced."""
    text = _QUERY.sub(lambda m: m.group("qk") + REDACTED, text)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def redact(value: Any, key: object = None) -> Any:
    """A copy of `value` (dicts, lists, tuples, strings at any depth) with secrets and personal data
    removed; `key` is the name the value was logged under."""
    if key is not None and sensitive_key(key):
        name = str(key).lower()
        if name not in _DIGITS_ONLY_KEYS or (isinstance(value, str | int) and str(value).strip().isdigit()):
            return REDACTED if value not in (None, "") else value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(redact(v) for v in value) if not isinstance(value, set | frozenset) else [
            redact(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return redact_text(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, int | float | bool) or value is None:
        # A bare number can be a phone, card or ID number logged without a telling key.
        return redact_text(str(value)) if isinstance(value, int) and not isinstance(value, bool) and abs(
            value) >= 10**10 else value
    return redact_text(str(value))


def redact_event(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """structlog processor: the event with every field redacted (the event name and level are kept)."""
    return {k: (v if k in ("level", "timestamp", "logger") else redact(v, None if k == "event" else k))
            for k, v in event_dict.items()}
