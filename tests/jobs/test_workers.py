"""Background jobs on procrastinate, run by real `fenqi worker` processes (PostgreSQL only: the queue is
procrastinate's tables), and the in-process path of the SQLite demo.

These tests commit, so they use a scratch PostgreSQL database of their own (created beside the test
database and dropped afterwards) or a temporary SQLite file.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from fenqi.kit.db import make_engine
from fenqi.kit.migrate import upgrade
from fenqi.servicing.check import check_books
from fenqi.servicing.service import book_loan
from tests.servicing.support import IS_POSTGRES, START, fresh_book

FENQI = [sys.executable, "-c", "from fenqi.cli import main; main()"]
pg_only = pytest.mark.skipif(not IS_POSTGRES, reason="procrastinate's queue lives in PostgreSQL")


@pytest.fixture()
def scratch_pg() -> Iterator[str]:
    url = os.environ["FENQI_TEST_DATABASE_URL"]
    base, name = url.rsplit("/", 1)
    scratch = f"{name}_jobs_{os.getpid()}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        yield f"{base}/{scratch}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def _env(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "FENQI_DATABASE_URL": url, "FENQI_COB_TIME": "", **extra}


def _worker(url: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*FENQI, "worker", *args], env=_env(url, **env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(what: Callable[[], bool], timeout: float = 90.0, state: Callable[[], object] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out: {state()}")


def _jobs(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT task_name, status FROM procrastinate_jobs ORDER BY id")).all()
    out: dict[str, list[str]] = {}
    for name, status in rows:
        out.setdefault(name, []).append(status)
    return out


def _book(engine: Engine, loans: int) -> list[int]:
    with Session(engine) as s, s.begin():
        fresh_book(s)
        return [book_loan(s, external_ref=f"job-{i}", product_code="EI-12", financed_fen=300_000 + i, term=12).id
                for i in range(loans)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pg_only
def test_fenqi_db_upgrade_installs_the_queue_and_a_deferred_job_commits_with_its_cause(scratch_pg: str) -> None:
    upgrade(scratch_pg)
    upgrade(scratch_pg)  # a second upgrade leaves procrastinate's schema as it is
    engine = make_engine(scratch_pg)
    try:
        from fenqi.identity.service import notify

        with Session(engine) as s, s.begin():
            notify(s, channel="sms", to="13800138000", template="t", body="kept")
        with Session(engine) as s:
            s.begin()
            notify(s, channel="sms", to="13800138000", template="t", body="rolled back")
            s.rollback()
        # One message committed, one rolled back: exactly one job, for the committed one.
        with engine.connect() as conn:
            ids = conn.execute(text("SELECT args->>'notification_id' FROM procrastinate_jobs")).scalars().all()
            kept = conn.execute(text("SELECT id FROM notification WHERE body = 'kept'")).scalar_one()
        assert ids == [str(kept)]
    finally:
        engine.dispose()


@pg_only
def test_a_real_worker_runs_every_kind_of_job(scratch_pg: str) -> None:
    from fenqi.identity.service import notify
    from fenqi.kit.jobs import defer, load_kinds

    upgrade(scratch_pg)
    engine = make_engine(scratch_pg)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # The web app serves the gateway emulators the reconciliation fetches its statements from.
    server = subprocess.Popen([*FENQI, "serve", "--port", str(port)], env=_env(scratch_pg, FENQI_BASE_URL=base),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = _worker(scratch_pg, "--concurrency", "2", FENQI_BASE_URL=base)
    try:
        _book(engine, 3)
        with Session(engine) as s, s.begin():
            message_id = notify(s, channel="sms", to="13800138000", template="t", body="hello").id
            defer(s, "servicing.cob_start")
            defer(s, "payments.poll_orders")
            defer(s, "payments.poll_refunds")
            defer(s, "payments.autodebit_batch")
            defer(s, "payments.autodebit_agreement", lock="agreement:1", agreement_id=1, on=START.isoformat())
            defer(s, "payments.reconcile_all", day=START.isoformat())
            defer(s, "collections.dispatch_reminders")
            defer(s, "identity.sms_receipts")
            defer(s, "aftersales.resume_returns")
            defer(s, "devices.push_unlock", device_id=1)  # no such device: the job has nothing to push
        expected = set(load_kinds())
        _wait(lambda: expected <= set(_jobs(engine)) and all(
            st == ["succeeded"] * len(st) for name, st in _jobs(engine).items() if name in expected),
              state=lambda: _jobs(engine))
        with engine.connect() as conn:
            sent = conn.execute(text("SELECT status FROM notification WHERE id = :i"), {"i": message_id}).scalar()
            assert sent == "sent"
            assert conn.execute(text("SELECT current FROM business_date")).scalar() == START + timedelta(days=1)
            assert conn.execute(text("SELECT status FROM cob_run")).scalar() == "done"
            assert conn.execute(text("SELECT COUNT(*) FROM payment_reconciliation_run")).scalar() == 2
        with Session(engine) as s:
            report = check_books(s)
            assert report.ok, report.to_json()
    finally:
        _stop(worker)
        _stop(server)
        engine.dispose()


@pg_only
def test_a_worker_killed_mid_chunk_leaves_the_books_unchanged_and_the_job_is_retried(scratch_pg: str) -> None:
    from fenqi.kit.jobs import retry_stalled_now
    from fenqi.servicing.cob_runs import start_day

    upgrade(scratch_pg)
    engine = make_engine(scratch_pg)
    victim = survivor = None
    try:
        loan_ids = _book(engine, 4)
        with engine.connect() as conn:
            entries_before = conn.execute(text("SELECT COUNT(*) FROM journal_entry")).scalar()
        with Session(engine) as s, s.begin():
            start_day(s, chunk_size=100)  # one chunk, one job
        # Hold one loan of the chunk: the worker's close blocks on it midway through its transaction.
        holder = engine.connect()
        holder.begin()
        holder.execute(text("SELECT id FROM loan WHERE id = :i FOR UPDATE"), {"i": loan_ids[-1]})
        victim = _worker(scratch_pg, "--queues", "cob")

        def blocked() -> bool:
            with engine.connect() as conn:
                return bool(conn.execute(text(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name <> 'fenqi-worker' "
                    "AND wait_event_type = 'Lock' AND datname = current_database()")).scalar())

        _wait(blocked)
        assert _jobs(engine)["servicing.cob_chunk"] == ["doing"]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        holder.rollback()
        holder.close()
        time.sleep(2)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM journal_entry")).scalar() == entries_before
            assert conn.execute(text("SELECT status FROM cob_chunk")).scalar() == "pending"
        with Session(engine) as s:
            assert check_books(s).ok
        # procrastinate's stalled-job retry (periodic in every worker) puts the job back for another.
        assert retry_stalled_now(1, scratch_pg) == 1
        survivor = _worker(scratch_pg, "--queues", "cob")
        _wait(lambda: _jobs(engine)["servicing.cob_chunk"] == ["succeeded"])
        with engine.connect() as conn:
            assert conn.execute(text("SELECT status, attempts FROM cob_chunk")).one() == ("done", 1)
            assert conn.execute(text("SELECT current FROM business_date")).scalar() == START + timedelta(days=1)
            assert set(conn.execute(text("SELECT cob_date FROM loan")).scalars()) == {START}
        with Session(engine) as s:
            report = check_books(s)
            assert report.ok, report.to_json()
    finally:
        for proc in (victim, survivor):
            if proc is not None:
                _stop(proc)
        engine.dispose()


def test_on_sqlite_the_same_jobs_run_in_process_after_commit(tmp_path: Path) -> None:
    """The demo's dispatch: jobs wait for the commit, then the in-process runner calls the same functions."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    script = f"""
import os
os.environ["FENQI_DATABASE_URL"] = {url!r}
from fenqi.kit.migrate import upgrade
upgrade()
from sqlalchemy import text
from fenqi.identity.service import notify
from fenqi.kit.db import session_scope, new_session
from fenqi.kit.jobs import defer, runner
from fenqi.servicing.service import book_loan
from tests.servicing.support import fresh_book
with session_scope() as s:
    fresh_book(s)
    book_loan(s, external_ref="demo", product_code="EI-12", financed_fen=300_000, term=12)
s = new_session()
notify(s, channel="sms", to="13800138000", template="t", body="never")
s.rollback()
s.close()
assert runner.run_pending() == 0, "a rolled-back change leaves no job"
with session_scope() as s:
    notify(s, channel="sms", to="13800138000", template="t", body="hello")
    defer(s, "servicing.cob_start")
    assert runner.run_pending() == 0, "nothing runs before the commit"
print("ran", runner.run_pending())
with session_scope() as s:
    print(s.execute(text("SELECT status FROM notification")).scalars().all())
    print(s.execute(text("SELECT status FROM cob_run")).scalars().all())
"""
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False,
                       env={**os.environ, "FENQI_DATABASE_URL": url}, cwd=Path(__file__).parents[2])
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()[-3:]
    assert lines == ["ran 3", "['sent']", "['done']"], r.stdout
