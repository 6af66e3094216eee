"""Staff passwords: argon2id (argon2-cffi), with a dummy check for unknown users to keep timing even."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fenqi.identity.errors import WeakPassword
from fenqi.kit.settings import get_settings

MIN_LENGTH = 8


@lru_cache
def _hasher() -> PasswordHasher:
    """argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane: about 40 ms a check on
    one core, where RFC 9106's 64 MiB × 3 passes × 4 lanes took 0.8–1.9 s on a loaded two-core host and
    made sign-in the slowest page). The test suite signs in hundreds of times on a small shared machine,
    so FENQI_ENV=test uses the cheapest parameters; each hash records its own parameters, so
    verification is the same code either way, and older hashes are re-hashed at the next sign-in."""
    if get_settings().env == "test":
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword()
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; always spends one argon2 verification, even without a hash."""
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


@lru_cache
def _dummy_hash() -> str:
    return _hasher().hash("not-a-password-of-anyone")
