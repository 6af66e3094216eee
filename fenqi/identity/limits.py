"""Rate limits kept in the database, safe under any number of concurrent requests and processes.

`take` counts one use and checks the limit in one statement
(`INSERT … ON CONFLICT DO UPDATE SET used = used + 1 WHERE used < limit RETURNING used`): two requests
can never both see room for the last use, whatever the database's isolation level. Windows are fixed
(e.g. each clock hour), so a client can use at most twice the limit across a window's edge.

Keys are keyed hashes (client addresses and phone numbers are personal data). The client address is
what the ASGI server reports: behind a reverse proxy, run uvicorn with `--proxy-headers` and
`--forwarded-allow-ips` set to the proxy, so that it is the shopper's address and not the proxy's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from fenqi.identity.models import RateCounter
from fenqi.identity.tokens import keyed_hash


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Ticket:
    """One counted use (give it back with `refund` when the use turned out not to count, e.g. a
    successful sign-in)."""

    scope: str
    key_hash: str
    window_start: int


def take(session: Session, rule: Limit, key: str) -> Ticket | None:
    """Count one use of `rule` for `key`; None (and nothing counted) when the window is full."""
    now = int(time.time())
    window_start = now - now % rule.window_seconds
    key_hash = keyed_hash(f"rate:{rule.scope}", key)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(RateCounter)
        .values(scope=rule.scope, key_hash=key_hash, window_start=window_start, used=1)
        .on_conflict_do_update(
            index_elements=[RateCounter.scope, RateCounter.key_hash, RateCounter.window_start],
            set_={"used": RateCounter.used + 1},
            where=RateCounter.used < rule.limit,
        )
        .returning(RateCounter.used)
    )
    used = session.execute(statement).scalar_one_or_none()
    if used is None:
        return None
    if used == 1:
        _forget_old_windows(session, rule.scope, window_start)
    return Ticket(rule.scope, key_hash, window_start)


def refund(session: Session, ticket: Ticket) -> None:
    session.execute(
        update(RateCounter)
        .where(RateCounter.scope == ticket.scope, RateCounter.key_hash == ticket.key_hash,
               RateCounter.window_start == ticket.window_start, RateCounter.used > 0)
        .values(used=RateCounter.used - 1)
        .execution_options(synchronize_session=False)
    )


def _forget_old_windows(session: Session, scope: str, current: int) -> None:
    """Delete a few counters of windows that have ended (once per key and window, so the table stays
    the size of the current windows). SKIP LOCKED: two requests never wait on each other here."""
    old = (select(RateCounter.id).where(RateCounter.scope == scope, RateCounter.window_start < current)
           .limit(50).with_for_update(skip_locked=True))
    session.execute(delete(RateCounter).where(RateCounter.id.in_(old))
                    .execution_options(synchronize_session=False))
