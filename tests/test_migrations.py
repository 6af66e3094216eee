"""The migrations and the models describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from fenqi.domains import load_models
from fenqi.kit.db import Base
from fenqi.kit.migrate import not_procrastinate


def test_models_and_migrations_agree(engine: Engine) -> None:
    load_models()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": not_procrastinate})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models differ from migrations; run `fenqi db revision -m ...`: {diff}"
