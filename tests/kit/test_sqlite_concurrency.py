"""The embedded database (SQLite, the demo's) under concurrent writers: transactions that read before they
write — as every request does — wait for one another instead of failing with "database is locked" (a 500).
WAL mode refuses a deferred transaction's first write at once, without waiting, when another connection
committed after it began reading; the engine therefore begins write transactions as immediate, including
those a SAVEPOINT opens."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from fenqi.kit.db import make_engine

WRITERS = 20


def _race(tmp_path: Path, *, nested: bool) -> tuple[list[str], int]:
    engine = make_engine(f"sqlite:///{tmp_path}/race.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    start, errors = threading.Barrier(WRITERS), []

    def writer() -> None:
        try:
            with Session(engine) as session:
                start.wait()
                if nested:  # as the consoles' actions do: a savepoint around the read and the write
                    with session.begin_nested():
                        n = session.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
                        session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
                else:
                    session.execute(text("INSERT INTO counter VALUES (NULL, 0)"))
                    n = session.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
                session.commit()
        except Exception as exc:  # any failure is what the test reports
            errors.append(repr(exc)[:200])

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        total = conn.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
    engine.dispose()
    return errors, total


def test_concurrent_read_then_write_transactions_all_commit(tmp_path: Path) -> None:
    errors, total = _race(tmp_path, nested=False)
    assert errors == []
    assert total == WRITERS  # serialized: no write lost either


def test_concurrent_savepoint_transactions_all_commit(tmp_path: Path) -> None:
    errors, total = _race(tmp_path, nested=True)
    assert errors == []
    assert total == WRITERS
