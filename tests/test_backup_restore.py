"""docs/deploy.md's backup and restore, as written: `pg_dump -Fc` of a live database, `pg_restore` into an
empty one, `fenqi ledger check` clean on the copy and the same books as the original (PostgreSQL only)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from fenqi.kit.db import make_engine
from fenqi.kit.migrate import upgrade
from fenqi.servicing.cob_runs import run_cob
from fenqi.servicing.service import apply_repayment, book_loan
from tests.servicing.support import IS_POSTGRES, START, fresh_book

pytestmark = pytest.mark.skipif(not IS_POSTGRES or shutil.which("pg_dump") is None,
                                reason="needs PostgreSQL and its client tools")


@pytest.fixture()
def two_databases() -> Iterator[tuple[str, str]]:
    url = os.environ["FENQI_TEST_DATABASE_URL"]
    base, name = url.rsplit("/", 1)
    names = [f"{name}_live_{os.getpid()}", f"{name}_restored_{os.getpid()}"]
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for db in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{db}"'))
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        with admin.connect() as conn:
            for db in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _books(url: str) -> list[tuple[str, int, int]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT account, SUM(debit_fen), SUM(credit_fen) FROM journal_line "
                                 "GROUP BY account ORDER BY account")).all()
    engine.dispose()
    return [(str(a), int(d), int(c)) for a, d, c in rows]


def test_pg_dump_restored_into_an_empty_database_passes_the_ledger_check(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    live, restored = two_databases
    upgrade(live)
    engine = make_engine(live)
    with Session(engine) as s, s.begin():
        fresh_book(s)
        loan_id = book_loan(s, external_ref="backup-1", product_code="EI-12", financed_fen=499_900, term=12).id
    run_cob(engine, START + timedelta(days=35))
    with Session(engine) as s, s.begin():
        apply_repayment(s, loan_id=loan_id, amount_fen=20_000, payment_ref="backup-pay-1")
    engine.dispose()

    dump = tmp_path / "fenqi.dump"
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), _libpq(live)], check=True, timeout=300)
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", _libpq(restored), str(dump)], check=True,
                   timeout=300)

    env = {**os.environ, "FENQI_DATABASE_URL": restored}
    check = subprocess.run([sys.executable, "-c", "from fenqi.cli import main; main()", "ledger", "check", "--json"],
                           capture_output=True, text=True, env=env, timeout=300, check=False)
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout)["ok"] is True
    assert _books(restored) == _books(live) and _books(live)
