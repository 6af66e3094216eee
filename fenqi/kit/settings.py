"""Settings from FENQI_* environment variables, safe defaults for the demo."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Fixed demo keys: usable only when FENQI_ENV is not "production".
_DEMO_SECRET = "fenqi-demo-secret-not-for-production"
_DEMO_PII_KEY = "ZmVucWktZGVtby1waWkta2V5LTMyLWJ5dGVzLWxvbmc="


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FENQI_", env_file=None, extra="ignore")

    env: str = "demo"
    database_url: str = "sqlite:///fenqi.db"
    secret_key: str = _DEMO_SECRET
    pii_key: str = _DEMO_PII_KEY
    apr_cap: Decimal = Decimal("0.24")
    plan_terms: list[int] = [3, 6, 12, 24]
    base_url: str = "http://127.0.0.1:8000"
    log_json: bool = False
    log_level: str = "info"
    # Servicing: write a loan off after this many days past due; delinquency buckets as
    # [lowest dpd, name] pairs in ascending order; close-of-business chunk size in loans.
    write_off_days: int = 180
    delinquency_buckets: list[tuple[int, str]] = [(0, "current"), (1, "M1"), (31, "M2"), (61, "M3"), (91, "M4+")]
    cob_chunk_size: int = 20_000

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Settings:
        if self.env == "production":
            missing = [
                name
                for name, value, demo in (
                    ("FENQI_SECRET_KEY", self.secret_key, _DEMO_SECRET),
                    ("FENQI_PII_KEY", self.pii_key, _DEMO_PII_KEY),
                )
                if value == demo
            ]
            if missing:
                raise ValueError(f"production needs real secrets: {', '.join(missing)}")
            if self.database_url.startswith("sqlite"):
                raise ValueError("production needs FENQI_DATABASE_URL pointing at PostgreSQL")
        lowers = [lower for lower, _ in self.delinquency_buckets]
        if not lowers or lowers[0] != 0 or lowers != sorted(set(lowers)):
            raise ValueError("FENQI_DELINQUENCY_BUCKETS must start at 0 and ascend, e.g. [[0,\"current\"],[1,\"M1\"]]")
        if self.write_off_days < 1 or self.cob_chunk_size < 1:
            raise ValueError("FENQI_WRITE_OFF_DAYS and FENQI_COB_CHUNK_SIZE must be positive")
        if not (Decimal(0) < self.apr_cap <= Decimal(1)):
            raise ValueError("FENQI_APR_CAP must be in (0, 1]")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
