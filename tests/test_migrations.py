"""The migrations and the models describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from fenqi.domains import load_models
from fenqi.kit.db import Base


def test_models_and_migrations_agree(engine: Engine) -> None:
    load_models()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models differ from migrations; run `fenqi db revision -m ...`: {diff}"
