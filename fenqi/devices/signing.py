"""Signed check-in answers (Ed25519): the lock agent verifies them offline with the public key it was
given at enrolment (`GET /api/v1/devices/public-key`), so a forged answer — a fake "released" from a
rogue server or a tampered proxy — is refused by the phone itself.

The signed bytes are the canonical JSON of the payload (sorted keys, no spaces, UTF-8); the payload
names the IMEI, the state, the issue time, the server's counter for the device and the nonce the
device sent, so an old answer replayed to the phone does not match the nonce it is waiting for.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fenqi.devices.settings import device_settings
from fenqi.kit.settings import get_settings

ALGORITHM = "Ed25519"


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@lru_cache(maxsize=1)
def private_key() -> Ed25519PrivateKey:
    seed_b64 = device_settings().signing_key
    if seed_b64:
        seed = base64.b64decode(seed_b64)
        if len(seed) != 32:
            raise ValueError("FENQI_DEVICE_SIGNING_KEY must be base64 of exactly 32 bytes")
    else:
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=b"fenqi.devices.checkin.ed25519").derive(get_settings().secret_key.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


@lru_cache(maxsize=1)
def public_key_raw() -> bytes:
    return private_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@lru_cache(maxsize=1)
def key_id() -> str:
    """Short fingerprint of the public key (lets an agent notice a key rotation)."""
    return hashlib.sha256(public_key_raw()).hexdigest()[:16]


def sign(payload: dict[str, Any]) -> str:
    return base64.b64encode(private_key().sign(canonical(payload))).decode()


def verify(public_raw: bytes, payload: dict[str, Any], signature_b64: str) -> bool:
    """What the agent does offline: True only for an untouched payload signed by our key."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(base64.b64decode(signature_b64), canonical(payload))
    except (InvalidSignature, ValueError):
        return False
    return True
