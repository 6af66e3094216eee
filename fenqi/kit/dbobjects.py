"""Database objects of the kit: procrastinate's schema (the job queue) on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Connection


def install(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        from fenqi.kit.jobs import install_schema

        install_schema(connection)
