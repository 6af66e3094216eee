"""The commands as a user runs them, and concurrent repayments on PostgreSQL (real commits).

These tests commit, so they use scratch databases of their own (a temporary SQLite file; on
PostgreSQL a database created next to the test database and dropped afterwards).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from fenqi.kit.db import make_engine
from fenqi.kit.migrate import upgrade
from fenqi.servicing.check import check_books
from fenqi.servicing.cob_runs import run_cob
from fenqi.servicing.service import apply_repayment, book_loan, get_loan
from tests.servicing.support import IS_POSTGRES, START, fresh_book

FENQI = [sys.executable, "-c", "from fenqi.cli import main; main()"]


def fenqi(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FENQI_DATABASE_URL": url, "COLUMNS": "160"}
    return subprocess.run([*FENQI, *args], capture_output=True, text=True, env=env, timeout=600, check=False)


@pytest.fixture()
def scratch_pg() -> Iterator[str]:
    url = os.environ["FENQI_TEST_DATABASE_URL"]
    base, name = url.rsplit("/", 1)
    scratch = f"{name}_scratch_{os.getpid()}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}"'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    try:
        yield f"{base}/{scratch}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def test_cob_run_and_ledger_check_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s, s.begin():
        fresh_book(s)
        book_loan(s, external_ref="cli-1", product_code="FEE-060", financed_fen=300_000, term=3)
    engine.dispose()
    until = (START + timedelta(days=40)).isoformat()
    r = fenqi("cob", "run", "--date", until, "--json", url=url)
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout)
    assert len(runs) == 41 and runs[0]["business_date"] == START.isoformat() and runs[-1]["business_date"] == until
    assert sum(x["installments_due"] for x in runs) == 1
    again = json.loads(fenqi("cob", "run", "--date", until, "--json", url=url).stdout)
    assert again[0]["loans"] == 0  # the date is closed already: nothing more happens
    check = fenqi("ledger", "check", "--json", url=url)
    assert check.returncode == 0 and json.loads(check.stdout)["ok"] is True
    table = fenqi("ledger", "check", url=url)
    assert "ledger check OK" in table.stdout
    tb = fenqi("ledger", "trial-balance", url=url)
    assert tb.returncode == 0 and "应收本金" in tb.stdout
    bad = fenqi("cob", "run", "--date", "2026-02-31", url=url)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr and "Traceback" not in bad.stderr


def _portfolio(out: str) -> dict[str, object]:
    data = json.loads(out)
    assert data["ledger_check"]["ok"] is True
    return {k: v for k, v in data.items() if k not in ("seconds", "cob_seconds", "loan_days_per_second")}


def test_simulate_is_deterministic_for_a_seed() -> None:
    a = fenqi("simulate", "--loans", "25", "--days", "50", "--seed", "5", "--json", url="sqlite:///unused.db")
    assert a.returncode == 0, a.stderr
    b = fenqi("simulate", "--loans", "25", "--days", "50", "--seed", "5", "--json", url="sqlite:///unused.db")
    assert _portfolio(a.stdout) == _portfolio(b.stdout)
    p = _portfolio(a.stdout)["portfolio"]
    assert isinstance(p, dict) and sum(p["loans_by_status"].values()) == 25
    text_out = fenqi("simulate", "--loans", "10", "--days", "30", "--seed", "6", url="sqlite:///unused.db")
    assert "ledger check: OK" in text_out.stdout and "loan·days/s" in text_out.stdout
    assert "seed 6" in text_out.stdout


@pytest.mark.skipif(not IS_POSTGRES, reason="needs PostgreSQL")
def test_simulate_gives_the_same_book_on_postgresql(scratch_pg: str) -> None:
    pg = fenqi(
        "simulate",
        "--loans",
        "25",
        "--days",
        "50",
        "--seed",
        "5",
        "--json",
        "--database-url",
        scratch_pg,
        url=scratch_pg,
    )
    assert pg.returncode == 0, pg.stderr
    lite = fenqi("simulate", "--loans", "25", "--days", "50", "--seed", "5", "--json", url="sqlite:///unused.db")
    assert _portfolio(pg.stdout) == _portfolio(lite.stdout)


def _concurrent(engine: Engine, loan_id: int, refs: list[tuple[str, int]]) -> list[BaseException]:
    barrier = threading.Barrier(len(refs))
    errors: list[BaseException] = []

    def pay(ref: str, fen: int) -> None:
        try:
            with Session(engine) as s, s.begin():
                s.execute(text("SELECT 1"))  # both transactions are open before either pays
                barrier.wait(timeout=30)
                apply_repayment(s, loan_id=loan_id, amount_fen=fen, payment_ref=ref)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=r) for r in refs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.skipif(not IS_POSTGRES, reason="row locks and real concurrency need PostgreSQL")
def test_two_repayments_at_the_same_moment_both_apply(scratch_pg: str) -> None:
    upgrade(scratch_pg)
    engine = make_engine(scratch_pg)
    try:
        with Session(engine) as s, s.begin():
            fresh_book(s)
            loan_id = book_loan(s, external_ref="race", product_code="EI-12", financed_fen=499_900, term=12).id
        run_cob(engine, START + timedelta(days=40))  # the first installment is past due
        with Session(engine) as s:
            before = get_loan(s, loan_id)
            owed = before.interest_receivable_fen + before.penalty_receivable_fen + 41_000
        assert not _concurrent(engine, loan_id, [("race-a", 30_000), ("race-b", 30_000)])
        # The same payment delivered twice at the same moment is applied once.
        assert not _concurrent(engine, loan_id, [("race-c", 5_000), ("race-c", 5_000)])
        with Session(engine) as s:
            loan = get_loan(s, loan_id)
            paid = s.execute(
                text(
                    "SELECT COUNT(*), SUM(amount_fen), SUM(principal_fen + interest_fen + penalty_fen "
                    "+ fee_fen + credit_fen) FROM repayment WHERE loan_id = :l"
                ),
                {"l": loan_id},
            ).one()
            assert tuple(int(x) for x in paid) == (3, 65_000, 65_000)
            assert loan.interest_receivable_fen == 0 and loan.penalty_receivable_fen == 0
            assert loan.credit_balance_fen > 0 and owed > 0
            report = check_books(s)
            assert report.ok, report.to_json()
    finally:
        engine.dispose()
