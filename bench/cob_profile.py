"""Where one close-of-business chunk spends its time: every statement timed, the rest is Python.

`python -m bench.cob_profile [--lo 1] [--chunk-size 20000] [--database-url URL]` closes one chunk of the
benchmark's book (the next business date, loans lo..lo+size-1) exactly as a worker does
(`close_chunk`, with every registered chunk step), in one transaction that is then rolled back, so the
book is unchanged. Prints the statements by total time, the sum, and the chunk's wall time: what is
left is Python (SQLAlchemy, building statements) and the round trips' latency.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from bench.bench_cob import DEFAULT_URL


def _label(sql: str) -> str:
    """A statement's shape, short: its verb and table and the first distinguishing words."""
    s = re.sub(r"\s+", " ", sql).strip()
    return s[:150]


def profile_chunk(url: str, lo: int, size: int, explain: str | None = None) -> None:
    from fenqi import wiring
    from fenqi.kit.db import make_engine
    from fenqi.kit.settings import get_settings
    from fenqi.servicing.cob import close_chunk
    from fenqi.servicing.models import CobChunk, CobRun

    wiring.install()
    engine = make_engine(url)
    times: dict[str, list[float]] = defaultdict(list)

    plans: list[str] = []

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> Any:
        conn.info["t0"] = time.perf_counter()
        if explain and explain in statement and not statement.startswith("EXPLAIN"):
            # The statement runs as EXPLAIN ANALYZE (it still does its work): its plan, timings, buffers, WAL.
            statement = "EXPLAIN (ANALYZE, BUFFERS, WAL) " + statement
        return statement, params

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        times[_label(statement)].append(time.perf_counter() - conn.info.pop("t0"))
        if statement.startswith("EXPLAIN"):
            plans.append(statement[:300] + "\n" + "\n".join(r[0] for r in cursor.fetchall()))

    settings = get_settings()
    with Session(engine) as session:
        session.begin()
        day = session.execute(text("SELECT current FROM business_date WHERE id = 1")).scalar_one()
        run = session.scalar(select(CobRun).where(CobRun.business_date == day))
        if run is None:
            run = CobRun(business_date=day, status="running", chunk_size=size, chunks=1)
            session.add(run)
            session.flush()
        chunk = CobChunk(run_id=run.id, lo_id=lo, hi_id=lo + size - 1, status="pending", loans=0, attempts=0)
        session.add(chunk)
        session.flush()
        times.clear()
        started = time.perf_counter()
        stats = close_chunk(session, chunk, day, buckets=list(settings.delinquency_buckets),
                            write_off_days=settings.write_off_days)
        wall = time.perf_counter() - started
        session.rollback()
    engine.dispose()
    total = sum(sum(v) for v in times.values())
    print(f"chunk {lo}-{lo + size - 1} of {day}: {stats.loans:,} loans, {stats.due:,} due, {stats.penalty:,} "
          f"penalised; wall {wall:.2f} s, {sum(len(v) for v in times.values())} statements {total:.2f} s, "
          f"the rest (Python, round trips) {wall - total:.2f} s")
    for label, ts in sorted(times.items(), key=lambda kv: -sum(kv[1]))[:25]:
        print(f"  {sum(ts):7.3f} s  ×{len(ts):<3} {label}")
    for plan in plans:
        print(plan)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.cob_profile")
    parser.add_argument("--lo", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=20_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--explain", help="EXPLAIN ANALYZE the statements containing this text")
    a = parser.parse_args()
    profile_chunk(a.database_url, a.lo, a.chunk_size, a.explain)
