"""Structured logging: dotted event names, never personal data (mask with fenqi.kit.crypto)."""

from __future__ import annotations

import logging
import sys

import structlog

from fenqi.kit.settings import get_settings


def configure_logging() -> None:
    """Logs go to stderr (stdout belongs to a command's output, e.g. `--json`), at FENQI_LOG_LEVEL."""
    settings = get_settings()
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    renderer = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


log = structlog.get_logger("fenqi")
