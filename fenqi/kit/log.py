"""Structured logging: dotted event names, never personal data, never secrets, never local variables.

One pipeline for structlog's events and for the standard library's records (uvicorn, SQLAlchemy, any
library): both go through `fenqi.kit.redact.redact_event`, which removes secrets and personal data by
key and by pattern, and tracebacks are rendered as plain text without local variables (a rich
traceback with locals printed every request header, API keys included, and every field of a failed
application). Production (`FENQI_ENV=production`, or `FENQI_LOG_JSON=true`) writes one JSON object a
line; elsewhere a readable console line. uvicorn's access lines keep the path but never the query
string (codes and tokens travel in query strings).
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import Processor

from fenqi.kit.redact import redact_event
from fenqi.kit.settings import Environment, get_settings

_HANDLER_NAME = "fenqi"
# uvicorn's loggers: configured here (run uvicorn with log_config=None), so their lines are redacted too.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


class DropQueryStrings(logging.Filter):
    """uvicorn.access records carry the full path as an argument: keep the path, drop `?…`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            if isinstance(args[2], str):
                args[2] = args[2].split("?", 1)[0]
            record.args = tuple(args)
        return True


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Plain-text traceback (the standard library's format): no local variables, ever.
        structlog.processors.format_exc_info,
        redact_event,
    ]


def json_logs() -> bool:
    settings = get_settings()
    return bool(settings.log_json) or settings.env == Environment.PRODUCTION


def configure_logging(stream: TextIO | None = None) -> None:
    """Logs go to `stream` (default stderr; stdout belongs to a command's output, e.g. `--json`), at
    FENQI_LOG_LEVEL. Safe to call again (the app and the CLI both do)."""
    settings = get_settings()
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    out = stream or sys.stderr
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_logs()
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[*_shared_processors(), renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(DropQueryStrings())
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_shared_processors()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    # Libraries speak at WARNING and above (httpx alone logs every request at INFO); uvicorn's loggers
    # keep the level uvicorn gives them, and their records reach this handler by propagation.
    root.setLevel(max(level, logging.WARNING))
    for name in _UVICORN:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True


log = structlog.get_logger("fenqi")
