"""Request-scoped pieces shared by every domain's API: the session (one transaction per request)
and the caller's language."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request

from fenqi.kit.db import Session, new_session
from fenqi.kit.i18n import pick_language


def get_session() -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back if it raises."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def request_language(request: Request) -> str:
    return pick_language(
        request.headers.get("accept-language"),
        request.query_params.get("lang") or request.cookies.get("lang"),
    )
