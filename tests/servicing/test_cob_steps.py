"""Other domains' close-of-business steps run inside the close's transactions, once per chunk and day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.orm import Session

from fenqi.servicing import cob_steps
from fenqi.servicing.cob_runs import close_day
from fenqi.servicing.models import CobChunk
from fenqi.servicing.service import book_loan
from tests.servicing.support import START, fresh_book


@pytest.fixture()
def clean_registry() -> Iterator[None]:
    """Only the test's own steps (the installed domains' are put back afterwards)."""
    chunk, day = dict(cob_steps._chunk_steps), dict(cob_steps._day_steps)
    cob_steps._chunk_steps.clear()
    cob_steps._day_steps.clear()
    yield
    cob_steps._chunk_steps.clear()
    cob_steps._chunk_steps.update(chunk)
    cob_steps._day_steps.clear()
    cob_steps._day_steps.update(day)


def _book(session: Session, n: int) -> list[int]:
    fresh_book(session)
    return [
        book_loan(session, external_ref=f"steps-{i}", product_code="FEE-060", financed_fen=300_000, term=3).id
        for i in range(n)
    ]


def test_chunk_and_day_steps_run_in_order_over_every_chunk(session: Session, clean_registry: None) -> None:
    ids = _book(session, 5)
    calls: list[tuple[str, date, int, int]] = []
    days: list[date] = []
    cob_steps.register_chunk_step("second", lambda s, d, lo, hi: calls.append(("second", d, lo, hi)) or 2, order=20)
    cob_steps.register_chunk_step("first", lambda s, d, lo, hi: calls.append(("first", d, lo, hi)) or 1, order=10)
    cob_steps.register_day_step("day", lambda s, d: days.append(d))

    report = close_day(session.connection(), START, chunk_size=2)

    chunks = session.query(CobChunk).order_by(CobChunk.id).all()
    assert [c[0] for c in calls] == ["first", "second"] * len(chunks)
    covered = {i for _, _, lo, hi in calls for i in range(lo, hi + 1)}
    assert set(ids) <= covered
    assert all(d == START for _, d, _, _ in calls)
    assert days == [START]  # once, when the last chunk is done
    assert {k: report.steps[k] for k in ("first", "second")} == {"first": len(chunks), "second": 2 * len(chunks)}


def test_a_failing_step_rolls_back_its_chunk(session: Session, clean_registry: None) -> None:
    _book(session, 1)

    def boom(s: Session, d: date, lo: int, hi: int) -> int:
        raise RuntimeError("step failed")

    cob_steps.register_chunk_step("boom", boom)
    with pytest.raises(RuntimeError, match="step failed"):
        close_day(session.connection(), START, chunk_size=10)
    assert all(c.status == "pending" for c in session.query(CobChunk).all())


def test_the_day_steps_start_with_the_loan_then_the_account_snapshot(engine: object) -> None:
    """The wiring registers the ledger's account snapshot (the ledger imports no servicing module); it runs
    right after the loan snapshot, before the other domains' day steps."""
    from fenqi.ledger.snapshot import snapshot_accounts

    in_order = sorted(cob_steps._day_steps.items(), key=lambda kv: (kv[1][0], kv[0]))
    assert [name for name, _ in in_order][:2] == ["loan_snapshot", "account_snapshot"]
    assert cob_steps._day_steps["account_snapshot"][1] is snapshot_accounts
