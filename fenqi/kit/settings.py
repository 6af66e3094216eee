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
        if not (Decimal(0) < self.apr_cap <= Decimal(1)):
            raise ValueError("FENQI_APR_CAP must be in (0, 1]")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
