"""Device-lock settings (FENQI_DEVICE_* environment variables).

The Ed25519 key that signs check-in answers is derived from FENQI_SECRET_KEY (HKDF, its own label)
unless FENQI_DEVICE_SIGNING_KEY gives a 32-byte seed (base64): production's secret key is already
required to be real, so there is no demo key to forget to replace.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class DeviceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FENQI_DEVICE_", env_file=None, extra="ignore")

    # Products without a policy of their own: lock after this many days past due.
    lock_after_dpd: int = 7
    # The lock warning must have been queued at least this long before a lock applies.
    warn_lead_hours: int = 24
    # A release (payoff) can be cancelled this long after it was decided; the device hears
    # `released` only once the window has passed (until then it stays `normal`).
    release_cancel_minutes: int = 60
    # How often the agent should check in (seconds), told in every answer.
    checkin_interval_seconds: int = 900
    signing_key: str = ""  # base64 of a 32-byte Ed25519 seed; empty: derived from FENQI_SECRET_KEY


@lru_cache(maxsize=1)
def device_settings() -> DeviceSettings:
    return DeviceSettings()
