"""Settings from FENQI_* environment variables, safe defaults for the demo."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from pydantic import ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Fixed demo keys: usable only when FENQI_ENV is not "production".
_DEMO_SECRET = "fenqi-demo-secret-not-for-production"
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_SERVICE_PHONE = re.compile(r"[0-9][0-9-]{4,18}[0-9]")
_DEMO_PII_KEY = "ZmVucWktZGVtby1waWkta2V5LTMyLWJ5dGVzLWxvbmc="
MIN_SECRET_BYTES = 32


class Environment(StrEnum):
    """FENQI_ENV: what kind of run this is. Anything else (`prod`, `Production`, `staging`) is refused
    at start-up rather than silently treated as not-production.

    - `demo` (default): `fenqi demo`; demo keys, SQLite, the gateway emulators in-process, login codes
      shown on the operations page, background jobs in-process.
    - `test`: the test suite; as the demo, but codes are not shown and password hashing is cheap.
    - `production`: real secrets (≥ 32 bytes each, not the demo values), PostgreSQL, real payment
      gateways and credit bureau (no emulator), session cookies always `Secure`.
    """

    DEMO = "demo"
    TEST = "test"
    PRODUCTION = "production"


def parse_environment(value: Any) -> Environment:
    """The exact lower-case names only: a typo must not turn production checks off."""
    try:
        return Environment(value)
    except ValueError:
        names = ", ".join(e.value for e in Environment)
        raise ValueError(f"FENQI_ENV={value!r} is not one of {names} (exactly, in lower case)") from None


def short_secret(name: str, value: str, demo: str | None = None) -> str | None:
    """Why a production secret is unfit (the demo value, or shorter than 32 bytes), else None."""
    if demo is not None and value == demo:
        return f"{name} is the demo value"
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"{name} is shorter than {MIN_SECRET_BYTES} bytes"
    return None


def settings_problems(exc: ValidationError) -> list[str]:
    """One line per problem of a settings class that refused to load (for the command line)."""
    return [str(e.get("ctx", {}).get("error") or e["msg"]) for e in exc.errors()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FENQI_", env_file=None, extra="ignore")

    env: Environment = Environment.DEMO
    database_url: str = "sqlite:///fenqi.db"
    secret_key: str = _DEMO_SECRET
    pii_key: str = _DEMO_PII_KEY
    apr_cap: Decimal = Decimal("0.24")
    plan_terms: list[int] = [3, 6, 12, 24]
    # Personalized plans: a plan is recommended only if its highest installment is at most this share of
    # the shopper's stated monthly income (0..1].
    plan_income_share: Decimal = Decimal("0.30")
    base_url: str = "http://127.0.0.1:8000"
    log_json: bool = False
    log_level: str = "info"
    # Servicing: write a loan off after this many days past due; delinquency buckets as
    # [lowest dpd, name] pairs in ascending order; close-of-business chunk size in loans.
    write_off_days: int = 180
    # Analytics: provision rates for expected loss by bucket (current, d1_29, d30_59, d60_89, d90p), each
    # 0..1, as JSON, e.g. FENQI_PROVISION_RATES='{"d30_59": "0.35"}'; buckets not named keep their default.
    provision_rates: dict[str, Decimal] = {}
    delinquency_buckets: list[tuple[int, str]] = [(0, "current"), (1, "M1"), (31, "M2"), (61, "M3"), (91, "M4+")]
    cob_chunk_size: int = 20_000
    # The credit bureau provider (fenqi.risk.bureau); `emulated` is deterministic by ID hash.
    risk_bureau: str = "emulated"
    # Background jobs: the nightly close-of-business at this local time (Asia/Shanghai, HH:MM; empty: not
    # scheduled); a worker silent this many seconds is presumed dead and its jobs are retried elsewhere.
    cob_time: str = "00:30"
    jobs_stalled_seconds: int = 60
    # The one customer-service number shoppers are given: pages, contracts, slips and text messages.
    service_phone: str = "400-800-8888"

    @field_validator("env", mode="before")
    @classmethod
    def _known_environment(cls, value: Any) -> Environment:
        return parse_environment(value)

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.env == Environment.PRODUCTION:
            problems = [
                problem
                for problem in (
                    short_secret("FENQI_SECRET_KEY", self.secret_key, _DEMO_SECRET),
                    short_secret("FENQI_PII_KEY", self.pii_key, _DEMO_PII_KEY),
                )
                if problem
            ]
            if self.database_url.startswith("sqlite"):
                problems.append("FENQI_DATABASE_URL must point at PostgreSQL, not SQLite")
            if self.risk_bureau == "emulated":
                problems.append("FENQI_RISK_BUREAU must name a real credit bureau provider, not the emulator")
            if problems:
                raise ValueError("production settings refused: " + "; ".join(problems))
        lowers = [lower for lower, _ in self.delinquency_buckets]
        if not lowers or lowers[0] != 0 or lowers != sorted(set(lowers)):
            raise ValueError("FENQI_DELINQUENCY_BUCKETS must start at 0 and ascend, e.g. [[0,\"current\"],[1,\"M1\"]]")
        if self.write_off_days < 1 or self.cob_chunk_size < 1:
            raise ValueError("FENQI_WRITE_OFF_DAYS and FENQI_COB_CHUNK_SIZE must be positive")
        if self.cob_time and not _HHMM.fullmatch(self.cob_time):
            raise ValueError("FENQI_COB_TIME is a local time HH:MM, e.g. 00:30")
        if self.jobs_stalled_seconds < 5:
            raise ValueError("FENQI_JOBS_STALLED_SECONDS must be at least 5")
        if not _SERVICE_PHONE.fullmatch(self.service_phone):
            raise ValueError("FENQI_SERVICE_PHONE is a telephone number of digits and dashes, e.g. 400-800-8888")
        if not (Decimal(0) < self.apr_cap <= Decimal(1)):
            raise ValueError("FENQI_APR_CAP must be in (0, 1]")
        if not (Decimal(0) < self.plan_income_share <= Decimal(1)):
            raise ValueError("FENQI_PLAN_INCOME_SHARE must be in (0, 1], e.g. 0.30")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
