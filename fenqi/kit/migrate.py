"""Schema migrations (Alembic), driven from code so that `fenqi db upgrade` works from an installed package."""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def not_procrastinate(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate and the schema test compare our models only: procrastinate owns its own tables."""
    return not (name or "").startswith("procrastinate_")


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str | None = None, connection: Connection | None = None, *, schema_only: bool = False) -> None:
    cfg = alembic_config(url, connection)
    cfg.attributes["schema_only"] = schema_only
    command.upgrade(cfg, "head")


def revision(message: str) -> None:
    """Autogenerate a new revision by comparing the models with a scratch database at head."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scratch.db"
        upgrade(url, schema_only=True)
        # Sequential ids (0001, 0002, ...) keep the history readable and the order obvious.
        rev_id = f"{len(list((MIGRATIONS / 'versions').glob('[0-9]*.py'))) + 1:04d}"
        cfg = alembic_config(url)
        cfg.attributes["schema_only"] = True
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
