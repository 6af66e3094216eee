"""Reminder generation on PostgreSQL: the close-of-business step that schedules a day's notices.

1. A book of N open loans (default 100,000; `--loans 1000000` for the full size) is generated with
   bench_cob's COPY generator: every product, term and age, 8% of them 1–3 installments behind, closed
   through 31 Dec 2026 — the state the step reads after servicing's own steps.
2. For each of R repetitions: the baseline — a plain SELECT of the same open-loan rows with the columns
   the step reads, fetched in chunks — then the step itself over every chunk of `--chunk-size` loans
   (INSERT … SELECT … ON CONFLICT DO NOTHING into `reminder`), in one transaction rolled back so each
   repetition does the same work.
3. Prints notices scheduled, seconds, loans per second, and the ratio to the baseline (best of R).

Options: --loans N, --repeat R (default 3), --chunk-size C (default 20,000), --database-url URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/fenqi_bench_remind, created if missing), --reuse.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.bench_cob import TODAY, ensure_database, fresh_schema, generate

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fenqi_bench_remind"
_COLUMNS = ("l.id, l.customer_id, l.cur_due_date, l.cur_period, l.dpd, l.oldest_unpaid_due, l.status, "
            "l.interest_receivable_fen, l.fee_receivable_fen, l.penalty_receivable_fen")


def _chunks(session: Session, size: int) -> list[tuple[int, int]]:
    lo, hi = session.execute(text("SELECT MIN(id), MAX(id) FROM loan WHERE status IN ('active', 'overdue')")).one()
    return [(x, x + size - 1) for x in range(lo, hi + 1, size)] if lo is not None else []


def baseline(session: Session, chunks: list[tuple[int, int]]) -> tuple[float, int]:
    started, rows = time.perf_counter(), 0
    for lo, hi in chunks:
        rows += len(session.execute(text(
            f"SELECT {_COLUMNS} FROM loan l WHERE l.id BETWEEN :lo AND :hi AND l.status IN ('active', 'overdue')"
        ), {"lo": lo, "hi": hi}).all())
    return time.perf_counter() - started, rows


def generation(session: Session, chunks: list[tuple[int, int]]) -> tuple[float, int]:
    from fenqi.collections.reminders_cob import schedule_chunk

    day = TODAY - timedelta(days=1)
    started, made = time.perf_counter(), 0
    for lo, hi in chunks:
        made += schedule_chunk(session, day, lo, hi)
    return time.perf_counter() - started, made


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench reminders")
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=20_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="keep the book already generated in the database")
    args = parser.parse_args(argv)

    from fenqi.kit.db import make_engine

    url = args.database_url
    ensure_database(url)
    if not args.reuse:
        started = time.perf_counter()
        fresh_schema(url)
        generate(url, args.loans)
        print(f"book of {args.loans:,} loans generated in {time.perf_counter() - started:.1f} s")
    engine = make_engine(url)
    best_base, best_gen, made, loans = float("inf"), float("inf"), 0, 0
    for k in range(args.repeat):
        with Session(engine) as session:
            chunks = _chunks(session, args.chunk_size)
            base, loans = baseline(session, chunks)
            session.rollback()
            gen, made = generation(session, chunks)
            session.rollback()  # the same work each repetition
        best_base, best_gen = min(best_base, base), min(best_gen, gen)
        print(f"run {k + 1}: plain SELECT {base:.2f} s ({loans:,} rows); reminder generation {gen:.2f} s "
              f"({made:,} notices)")
    engine.dispose()
    print(f"reminder generation for {loans:,} open loans: {best_gen:.2f} s, {loans / best_gen:,.0f} loans/s, "
          f"{made:,} notices scheduled; plain SELECT of the same rows {best_base:.2f} s → "
          f"ratio {best_gen / best_base:.2f}× (best of {args.repeat})")
