"""Background jobs: one registry of job kinds, two ways to dispatch them.

A job kind is a plain function of JSON-serializable keyword arguments that opens its own transaction(s)
(`session_scope`): the job boundary. Domains declare theirs in `fenqi/<domain>/tasks.py` with `@job`.

* **PostgreSQL (production): procrastinate.** `defer(session, name, ...)` inserts the procrastinate job
  on the *same* database connection and in the *same* transaction as the business change that causes
  it (procrastinate's `connection=` option, given the psycopg connection under the SQLAlchemy session).
  Either both commit or neither does: no dual write with a broker, no job lost on a crash, no job for a
  change that was rolled back. Workers (`fenqi worker`, any number, on any host) fetch jobs with
  `SELECT … FOR UPDATE SKIP LOCKED`, retry failures with exponential back-off, honour `lock` (two jobs
  with the same lock never run at once) and `queueing_lock` (at most one such job waiting), defer the
  periodic kinds (cron, in UTC) exactly once across all workers, and take back the jobs of a worker
  that died (`retry_stalled`, itself periodic).
* **SQLite (the embedded demo): in-process.** `defer` keeps the job on the session and hands it, once
  the transaction commits, to one background thread of the same process that calls the same function
  (and runs the periodic kinds on their schedule). Nothing else to install; one code path for the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from fenqi.domains import domain_modules
from fenqi.kit.log import log
from fenqi.kit.settings import get_settings

_SESSION_KEY = "fenqi.jobs"


@dataclass(frozen=True)
class JobKind:
    name: str
    fn: Callable[..., Any]
    queue: str
    max_attempts: int
    # Seconds to wait before retry k: backoff * 2**k (procrastinate's exponential_wait).
    backoff: int
    cron: str | None  # UTC cron (5 fields, or 6 with seconds) for periodic kinds
    lock: str | None
    queueing_lock: str | None


KINDS: dict[str, JobKind] = {}


def job(
    name: str,
    *,
    queue: str = "default",
    max_attempts: int = 5,
    backoff: int = 2,
    cron: str | None = None,
    lock: str | None = None,
    queueing_lock: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a job kind (the function is returned unchanged and stays callable directly)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        KINDS[name] = JobKind(name, fn, queue, max_attempts, backoff, cron, lock, queueing_lock)
        return fn

    return register


def load_kinds() -> dict[str, JobKind]:
    """Import every domain's `tasks` module so that every kind is registered."""
    domain_modules("tasks")
    return KINDS


def uses_procrastinate(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def defer(
    session: Session,
    name: str,
    *,
    lock: str | None = None,
    queueing_lock: str | None = None,
    schedule_in: timedelta | None = None,
    **kwargs: Any,
) -> bool:
    """Enqueue job `name(**kwargs)` as part of the session's transaction. Returns False when a job with
    the same `queueing_lock` is already waiting (then nothing is enqueued and the transaction goes on)."""
    kinds = load_kinds()
    if name not in kinds:
        raise KeyError(f"unknown job kind {name}")
    if not uses_procrastinate(session):
        pending: list[_InProcessJob] = session.info.setdefault(_SESSION_KEY, [])
        due = time.monotonic() + (schedule_in.total_seconds() if schedule_in else 0.0)
        pending.append(_InProcessJob(name, kwargs, due))
        return True
    from procrastinate import exceptions
    from procrastinate.tasks import configure_task

    kind = kinds[name]
    queueing_lock = queueing_lock or kind.queueing_lock
    configured = configure_task(
        name=name,
        job_manager=_job_manager(),
        queue=kind.queue,
        lock=lock or kind.lock,
        queueing_lock=queueing_lock,
        schedule_in={"seconds": int(schedule_in.total_seconds())} if schedule_in else None,
        # The psycopg connection under the session: the job row joins this very transaction.
        connection=session.connection().connection.driver_connection,
    )
    if not queueing_lock:
        configured.defer(**kwargs)
        return True
    try:
        # A queueing-lock violation must not abort the caller's transaction: try it in a savepoint.
        with session.begin_nested():
            configured.defer(**kwargs)
    except exceptions.AlreadyEnqueued:
        return False
    return True


# --- procrastinate ------------------------------------------------------------------------------------


def libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://u@h/db → postgresql://u@h/db (what libpq and psycopg understand)."""
    scheme, rest = sqlalchemy_url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


@lru_cache
def get_app() -> Any:
    """The procrastinate app on FENQI_DATABASE_URL with every job kind registered."""
    import procrastinate

    settings = get_settings()
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=libpq_url(settings.database_url), kwargs={"application_name": "fenqi-worker"}
        )
    )
    for kind in load_kinds().values():
        task = app.task(
            name=kind.name,
            queue=kind.queue,
            lock=kind.lock,
            queueing_lock=kind.queueing_lock,
            retry=procrastinate.RetryStrategy(max_attempts=kind.max_attempts, exponential_wait=kind.backoff),
        )(_adapter(kind))
        if kind.cron:
            app.periodic(cron=kind.cron, periodic_id=kind.name)(task)

    stalled_after = settings.jobs_stalled_seconds

    @app.periodic(cron="* * * * *", periodic_id="kit.retry_stalled")
    @app.task(name="kit.retry_stalled", queue="default", queueing_lock="kit.retry_stalled")
    async def retry_stalled_job(timestamp: int) -> int:
        return await retry_stalled(app, stalled_after)

    return app


@lru_cache
def _job_manager() -> Any:
    """What `defer` inserts with: a synchronous connector that is never opened, because every deferral
    runs on the caller's own connection (inside a worker too, whose own connector is asynchronous)."""
    import procrastinate
    from procrastinate.manager import JobManager

    return JobManager(procrastinate.SyncPsycopgConnector(conninfo=libpq_url(get_settings().database_url)))


def _adapter(kind: JobKind) -> Callable[..., Any]:
    """The function procrastinate calls: periodic deferrals add `timestamp`, passed on only if wanted."""
    wants_timestamp = "timestamp" in inspect.signature(kind.fn).parameters

    def run(**kwargs: Any) -> Any:
        if not wants_timestamp:
            kwargs.pop("timestamp", None)
        log.info("job.start", job=kind.name)
        try:
            return kind.fn(**kwargs)
        except Exception as exc:  # procrastinate retries it; say why in our own log
            log.warning("job.error", job=kind.name, error=repr(exc)[:500])
            raise

    run.__name__ = run.__qualname__ = kind.name.replace(".", "_")
    return run


async def retry_stalled(app: Any, seconds_since_heartbeat: float) -> int:
    """Put back the jobs whose worker stopped sending heartbeats (killed, host lost) for another worker."""
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat))
    for stalled_job in stalled:
        log.warning("job.stalled.retry", job=stalled_job.task_name, job_id=stalled_job.id)
        await app.job_manager.retry_job(stalled_job)
    return len(stalled)


def retry_stalled_now(seconds_since_heartbeat: float, database_url: str | None = None) -> int:
    """Synchronous entry point (the CLI and tests), on FENQI_DATABASE_URL or the database given."""
    import procrastinate

    async def go() -> int:
        app = get_app()
        if database_url:
            app = app.with_connector(procrastinate.PsycopgConnector(conninfo=libpq_url(database_url)))
        async with app.open_async():
            return await retry_stalled(app, seconds_since_heartbeat)

    return asyncio.run(go())


def run_worker(queues: list[str] | None, concurrency: int, *, wait: bool = True) -> None:
    """A procrastinate worker on FENQI_DATABASE_URL (blocks until stopped by SIGINT/SIGTERM)."""
    app = get_app()
    with app.open():
        app.run_worker(
            queues=queues or None,
            concurrency=concurrency,
            wait=wait,
            install_signal_handlers=True,
            shutdown_graceful_timeout=30,
        )


def install_schema(connection: Any) -> None:
    """procrastinate's tables and functions, once (`fenqi db upgrade`, on PostgreSQL only)."""
    from procrastinate.schema import SchemaManager

    exists = connection.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar()
    if exists is None:
        raw = connection.connection.driver_connection
        raw.execute(SchemaManager.get_schema())


# --- in-process (SQLite demo) ---------------------------------------------------------------------------


@dataclass
class _InProcessJob:
    name: str
    kwargs: dict[str, Any]
    due: float
    attempt: int = 1


class InProcessRunner:
    """One daemon thread that runs committed jobs and the periodic kinds: the demo's worker."""

    def __init__(self) -> None:
        self._queue: list[_InProcessJob] = []
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._next_periodic: dict[str, float] = {}

    def submit(self, jobs: list[_InProcessJob]) -> None:
        with self._cv:
            self._queue.extend(jobs)
            self._cv.notify_all()

    def start(self) -> None:
        with self._cv:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="fenqi-jobs", daemon=True)
                self._thread.start()

    def run_pending(self) -> int:
        """Run every job that is due now, in this thread (tests and `fenqi cob run` on SQLite)."""
        done = 0
        while (item := self._take()) is not None:
            self._run(item)
            done += 1
        return done

    def _take(self) -> _InProcessJob | None:
        with self._cv:
            now = time.monotonic()
            for i, item in enumerate(self._queue):
                if item.due <= now:
                    return self._queue.pop(i)
        return None

    def _periodic(self) -> None:
        from croniter import croniter

        now = time.time()
        for kind in load_kinds().values():
            if not kind.cron:
                continue
            nxt = self._next_periodic.get(kind.name)
            if nxt is None:
                self._next_periodic[kind.name] = croniter(kind.cron, now).get_next(float)
            elif nxt <= now:
                self._next_periodic[kind.name] = croniter(kind.cron, now).get_next(float)
                self.submit([_InProcessJob(kind.name, {"timestamp": int(nxt)}, 0.0)])

    def _loop(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                self._periodic()
            item = self._take()
            if item is None:
                with self._cv:
                    self._cv.wait(1.0)
                continue
            self._run(item)

    def _run(self, item: _InProcessJob) -> None:
        kind = load_kinds()[item.name]
        try:
            _adapter(kind)(**item.kwargs)
        except Exception as exc:  # retried with the same back-off as procrastinate's
            log.warning("job.failed", job=item.name, attempt=item.attempt, error=repr(exc))
            if item.attempt < kind.max_attempts:
                item.attempt += 1
                item.due = time.monotonic() + kind.backoff * 2 ** (item.attempt - 1)
                self.submit([item])


runner = InProcessRunner()


@event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    jobs = session.info.pop(_SESSION_KEY, None)
    if jobs:
        runner.submit(jobs)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_SESSION_KEY, None)


def start_in_process() -> None:
    """Start the demo's in-process worker thread (SQLite only; production runs `fenqi worker`)."""
    runner.start()


def utc_cron_for_local_time(hhmm: str, zone: str = "Asia/Shanghai") -> str:
    """A daily cron line in UTC for a local wall-clock time ("00:30" in Asia/Shanghai → "30 16 * * *")."""
    from zoneinfo import ZoneInfo

    hour, minute = (int(x) for x in hhmm.split(":"))
    local = datetime.now(ZoneInfo(zone)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    utc = local.astimezone(UTC)
    return f"{utc.minute} {utc.hour} * * *"
