"""Close-of-business runs: a run of one business date is cut into chunks of loan ids, each closed in its
own transaction by `close_chunk_job`, the one function that does the work however it is dispatched:

* on PostgreSQL, `start_day` creates the run, its chunks and one procrastinate job per chunk in one
  transaction (fenqi.servicing.tasks): any number of `fenqi worker` processes on any number of hosts
  share the day; a chunk job killed midway rolls back whole and is retried (stalled-job retry);
* in-process (SQLite, tests, `fenqi cob run`), `close_day` calls the same function for each chunk in turn.

Whichever chunk commits last finishes the run: it marks the run done and advances the business date.
The finishing check locks the run row, so two chunks committing at once cannot both miss being last.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fenqi.kit.clock import BusinessDate, business_date, set_business_date
from fenqi.kit.db import utcnow
from fenqi.kit.jobs import defer
from fenqi.kit.settings import get_settings
from fenqi.servicing.cob import ChunkStats, CobInterrupted, close_chunk
from fenqi.servicing.cob_steps import run_day_steps
from fenqi.servicing.models import CobChunk, CobRun, Loan, LoanStatus

Bind = Engine | Connection


@dataclass
class RunReport:
    business_date: date
    chunks: int
    loans: int
    seconds: float
    due: int = 0
    penalty: int = 0
    write_off: int = 0
    credit: int = 0
    steps: dict[str, int] = field(default_factory=dict)

    def add(self, stats: ChunkStats) -> None:
        for name, n in stats.steps.items():
            self.steps[name] = self.steps.get(name, 0) + n
        self.loans += stats.loans
        self.due += stats.due
        self.penalty += stats.penalty
        self.write_off += stats.write_off
        self.credit += stats.credit

    def to_json(self) -> dict[str, Any]:
        return {
            "business_date": self.business_date.isoformat(),
            "chunks": self.chunks,
            "loans": self.loans,
            "seconds": round(self.seconds, 3),
            "installments_due": self.due,
            "penalties": self.penalty,
            "write_offs": self.write_off,
            "credits_applied": self.credit,
            "steps": dict(self.steps),
        }


@contextmanager
def _tx(bind: Bind) -> Iterator[Session]:
    """One transaction; on a Connection already in a transaction (tests), a savepoint inside it."""
    session = Session(bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint")
    with session, session.begin():
        yield session


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def prepare_run(session: Session, day: date, chunk_size: int) -> CobRun:
    """The run of `day` with its chunks (created once; a re-run or a second caller finds them)."""
    run = session.scalar(select(CobRun).where(CobRun.business_date == day))
    if run is not None:
        return run
    lo, hi = session.execute(
        select(func.min(Loan.id), func.max(Loan.id)).where(Loan.status.in_(LoanStatus.OPEN), Loan.cob_date < day,
                                                  Loan.training.is_(False))
    ).one()
    starts = range(lo, hi + 1, chunk_size) if lo is not None else range(0)
    run = CobRun(
        business_date=day, status="running", chunk_size=chunk_size, chunks=len(starts) or -1, started_at=utcnow()
    )
    try:
        # Two callers may prepare the same run at once (PostgreSQL): the loser finds the winner's.
        with session.begin_nested() if _postgres(session) else nullcontext():
            session.add(run)
            session.flush()
    except IntegrityError:
        winner = session.scalar(select(CobRun).where(CobRun.business_date == day))
        if winner is None:
            raise
        return winner
    if starts:
        session.execute(
            insert(CobChunk),
            [
                {"run_id": run.id, "lo_id": x, "hi_id": x + chunk_size - 1, "status": "pending", "loans": 0,
                 "attempts": 0}
                for x in starts
            ],
        )
    return run


def finish_if_last(session: Session, run_id: int) -> bool:
    """If no chunk of the run is pending, mark it done and advance the business date past its day.

    The run row is locked first: of two chunks committing at the same moment, the second waits here
    until the first has committed, and then (a new statement, a new snapshot) sees it done."""
    q = select(CobRun).where(CobRun.id == run_id)
    run = session.scalar(q.with_for_update() if _postgres(session) else q)
    if run is None or run.status == "done":
        return False
    left = session.scalar(
        select(func.count()).select_from(CobChunk).where(CobChunk.run_id == run_id, CobChunk.status == "pending")
    )
    if left:
        return False
    day = run.business_date
    run_day_steps(session, day)
    session.execute(update(CobRun).where(CobRun.id == run_id).values(status="done", finished_at=utcnow()))
    # Advance the business date past the closed day (never backwards).
    moved: Any = session.execute(
        update(BusinessDate).where(BusinessDate.id == 1, BusinessDate.current <= day).values(current=day + timedelta(1))
    )
    if not moved.rowcount and session.get(BusinessDate, 1) is None:
        set_business_date(session, day + timedelta(days=1))
    session.flush()
    return True


def close_chunk_job(bind: Bind, chunk_id: int, *, worker: str = "in-process") -> ChunkStats | None:
    """Close one chunk (if still pending) and finish the run if it was the last: one transaction.

    Safe to run twice or at once for the same chunk: the chunk row is locked, and a chunk already done
    only re-checks whether the run is finished."""
    settings = get_settings()
    with _tx(bind) as session:
        q = select(CobChunk).where(CobChunk.id == chunk_id)
        chunk = session.scalar(q.with_for_update() if _postgres(session) else q)
        if chunk is None:
            return None
        stats = None
        if chunk.status == "pending":
            run = session.get(CobRun, chunk.run_id)
            if run is None:
                raise RuntimeError(f"cob chunk {chunk_id} without its run")
            chunk.worker = worker[:60]
            stats = close_chunk(session, chunk, run.business_date, buckets=list(settings.delinquency_buckets),
                                write_off_days=settings.write_off_days)
        finish_if_last(session, chunk.run_id)
    return stats


def pending_chunk_ids(session: Session, run_id: int) -> list[int]:
    return list(session.scalars(select(CobChunk.id).where(CobChunk.run_id == run_id, CobChunk.status == "pending")
                                .order_by(CobChunk.lo_id)))


def start_day(session: Session, day: date | None = None, *, chunk_size: int | None = None) -> CobRun:
    """Create the run of `day` (default: the business date) and enqueue one job per pending chunk, in the
    caller's transaction: the chunks and their jobs commit together or not at all."""
    day = day or business_date(session)
    run = prepare_run(session, day, chunk_size or get_settings().cob_chunk_size)
    session.flush()
    if run.status == "done":
        return run
    chunk_ids = pending_chunk_ids(session, run.id)
    for chunk_id in chunk_ids:
        defer(session, "servicing.cob_chunk", lock=f"cob-chunk:{chunk_id}", queueing_lock=f"cob-chunk:{chunk_id}",
              chunk_id=chunk_id)
    if not chunk_ids:
        finish_if_last(session, run.id)  # nothing to close (no open loan): the day is done
    return run


def close_day(
    engine: Bind,
    day: date | None = None,
    *,
    chunk_size: int | None = None,
    progress: bool = False,
    stop_after: int | None = None,
) -> RunReport:
    """Close one business date (default: the current one) in this process and advance the business date."""
    started = time.perf_counter()
    with _tx(engine) as session:
        day = day or business_date(session)
        run = prepare_run(session, day, chunk_size or get_settings().cob_chunk_size)
        run_id, n_chunks = run.id, max(run.chunks, 0)
        chunk_ids = [] if run.status == "done" else pending_chunk_ids(session, run_id)
        if run.status != "done" and not chunk_ids:
            finish_if_last(session, run_id)
    report = RunReport(day, n_chunks, 0, 0.0)
    with _progress(progress) as bar:
        task = bar.add_task(f"COB {day.isoformat()}", total=n_chunks, completed=n_chunks - len(chunk_ids)) \
            if bar is not None else None
        for done, chunk_id in enumerate(chunk_ids):
            if stop_after is not None and done >= stop_after:
                raise CobInterrupted(f"stopped after {done} chunks")
            stats = close_chunk_job(engine, chunk_id)
            if stats is not None:
                report.add(stats)
            if bar is not None:
                bar.advance(task)
    with _tx(engine) as session:
        status = session.scalar(select(CobRun.status).where(CobRun.id == run_id))
        if status != "done":
            raise RuntimeError(f"COB {day}: chunks still pending")
    report.seconds = time.perf_counter() - started
    return report


def close_day_on_workers(engine: Engine, day: date | None = None, *, chunk_size: int | None = None,
                         poll_seconds: float = 0.2, timeout: float = 24 * 3600) -> RunReport:
    """Enqueue the day's chunk jobs (PostgreSQL) and wait until `fenqi worker` processes have closed them."""
    started = time.perf_counter()
    with _tx(engine) as session:
        run = start_day(session, day, chunk_size=chunk_size)
        run_id, day, n_chunks = run.id, run.business_date, max(run.chunks, 0)
    deadline = time.monotonic() + timeout
    while True:
        with _tx(engine) as session:
            if session.scalar(select(CobRun.status).where(CobRun.id == run_id)) == "done":
                loans = session.scalar(select(func.coalesce(func.sum(CobChunk.loans), 0))
                                       .where(CobChunk.run_id == run_id))
                return RunReport(day, n_chunks, int(loans or 0), time.perf_counter() - started)
        if time.monotonic() > deadline:
            raise TimeoutError(f"COB {day}: not finished by the workers in {timeout} s")
        time.sleep(poll_seconds)


@contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"), TimeElapsedColumn()
    ) as bar:
        yield bar


def run_cob(
    engine: Bind,
    until: date | None = None,
    *,
    chunk_size: int | None = None,
    progress: bool = False,
    on_workers: bool = False,
) -> list[RunReport]:
    """Close every business date from the current one through `until` (default: just the current one).

    A date already closed is a no-op, so `run_cob(until=D)` twice changes nothing the second time.
    `on_workers` (PostgreSQL) hands each day's chunks to `fenqi worker` processes instead of this one.
    """
    with _tx(engine) as session:
        current = business_date(session)
    until = until or current
    reports = []
    day = current
    while day <= until:
        if on_workers:
            if not isinstance(engine, Engine):
                raise TypeError("closing on workers needs an Engine (each day commits)")
            reports.append(close_day_on_workers(engine, day, chunk_size=chunk_size))
        else:
            reports.append(close_day(engine, day, chunk_size=chunk_size, progress=progress))
        day += timedelta(days=1)
    if not reports:
        # Asked for a date already closed: report it as it was.
        with _tx(engine) as session:
            done = session.scalar(select(CobRun).where(CobRun.business_date == until))
            reports.append(RunReport(until, done.chunks if done else 0, 0, 0.0))
    return reports
