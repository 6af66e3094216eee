"""Database objects of the kit: procrastinate's schema (the job queue) on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Connection

from fenqi.kit.jobs import install_schema


def install(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        install_schema(connection)
