"""Alembic environment: the URL comes from the caller (fenqi.kit.migrate) or FENQI_DATABASE_URL."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import engine_from_config, pool

from fenqi.domains import install_db_objects, load_models
from fenqi.kit.db import Base
from fenqi.kit.migrate import not_procrastinate
from fenqi.kit.settings import get_settings

load_models()
config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
# Autogenerating a revision compares the models with a scratch database that may be at an older
# head (or empty): database objects for tables it lacks cannot be installed there, nor are they needed.
with_db_objects = not config.attributes.get("schema_only", False)
target_metadata = Base.metadata
_OPTS: dict[str, Any] = {"render_as_batch": True, "include_name": not_procrastinate}


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, **_OPTS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, **_OPTS)
        with context.begin_transaction():
            context.run_migrations()
            if with_db_objects:
                install_db_objects(connection)
        return
    engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, **_OPTS)
        with context.begin_transaction():
            context.run_migrations()
            if with_db_objects:
                install_db_objects(conn)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
