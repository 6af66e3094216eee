"""Request-scoped pieces shared by every domain's API: the session (one transaction per request)
and the caller's language."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

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


def commit_early(session: Session) -> None:
    """Commit a request's work at this point, before the endpoint goes on (e.g. before it builds a
    redirect or calls a gateway that will call us back). The request's session is in any case committed
    before the response leaves (fenqi.api sets the session dependency's scope). A session bound to a
    caller's own connection (the tests' rolled-back transaction) is left to that caller: only flushed."""
    if isinstance(session.bind, Engine):
        session.commit()
    else:
        session.flush()


def request_language(request: Request) -> str:
    return pick_language(
        request.headers.get("accept-language"),
        request.query_params.get("lang") or request.cookies.get("lang"),
    )


async def get_lazy_session() -> AsyncIterator[Session]:
    """For async endpoints that rarely touch the database: the session is created on the event loop
    (no I/O until first used), and only a session that did connect is committed, in the thread pool.
    Saves the two thread-pool hops of `get_session` on the fast path."""
    session = new_session()
    try:
        yield session
        if session.in_transaction():
            await run_in_threadpool(session.commit)
    except BaseException:
        if session.in_transaction():
            await run_in_threadpool(session.rollback)
        raise
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


# The request's session as an endpoint parameter (`session: SessionDep`): closed — committed or rolled back —
# as soon as the endpoint returns, before the response leaves ("function" scope), not after it was sent.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
LazySessionDep = Annotated[Session, Depends(get_lazy_session, scope="function")]
