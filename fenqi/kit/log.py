"""Structured logging: dotted event names, never personal data (mask with fenqi.kit.crypto)."""

from __future__ import annotations

import logging

import structlog

from fenqi.kit.settings import get_settings


def configure_logging() -> None:
    renderer = (
        structlog.processors.JSONRenderer()
        if get_settings().log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )


log = structlog.get_logger("fenqi")
