"""The CLI's printed lines give times as the pages do, in Beijing time: `fenqi aftersales show` (a case's events)
and `fenqi devices show` (a phone's lock history) print a moment stored as 08:05 UTC as 16:05, and no UTC."""

from __future__ import annotations

import re
from contextlib import nullcontext
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fenqi.cli import app
from fenqi.kit import db as kit_db
from tests.aftersales.test_pages import _sold_online

STORED = datetime(2026, 3, 31, 8, 5, 9, tzinfo=UTC)  # 16:05:09 in Beijing
UTC_TEXT = re.compile(r"\d{2}:\d{2}(:\d{2})?Z|T\d{2}:\d{2}|\+00:00|\bUTC\b|08:05")


@pytest.fixture()
def cli_on_test_session(session: Session, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The commands read through kit.db.session_scope; here it hands them the test's transaction."""
    monkeypatch.setattr(kit_db, "session_scope", lambda: nullcontext(session))
    return CliRunner()


def test_aftersales_show_prints_beijing_time(session: Session, cli_on_test_session: CliRunner) -> None:
    from fenqi.aftersales import service
    from fenqi.aftersales.models import CaseEvent

    _, sale, who = _sold_online(session)
    case = service.open_case(session, who, requested="return", reason="no_reason", loan_id=sale.loan_id)
    events = list(session.scalars(select(CaseEvent).where(CaseEvent.subject == f"case:{case.id}")))
    assert events
    for e in events:
        e.created_at = STORED
    session.flush()
    result = cli_on_test_session.invoke(app, ["aftersales", "show", str(case.id)])
    assert result.exit_code == 0, result.output
    assert "2026-03-31 16:05:09" in result.output, result.output
    assert not UTC_TEXT.search(result.output), result.output


def test_devices_show_prints_beijing_time(session: Session, cli_on_test_session: CliRunner) -> None:
    from fenqi.devices import service
    from fenqi.devices.models import LockEvent

    _, sale, _ = _sold_online(session)
    devices = service.loan_devices(session, sale.loan_id)
    assert devices, "the sale registers its phone for the lock"
    events = list(session.scalars(select(LockEvent).where(LockEvent.loan_id == sale.loan_id)))
    if not events:
        service.enrol(session, devices[0].id, actor_user_id=None)
        events = list(session.scalars(select(LockEvent).where(LockEvent.loan_id == sale.loan_id)))
    assert events
    for e in events:
        e.at = STORED
    session.flush()
    result = cli_on_test_session.invoke(app, ["devices", "show", str(sale.loan_id)])
    assert result.exit_code == 0, result.output
    assert "2026-03-31 16:05:09" in result.output, result.output
    assert not UTC_TEXT.search(result.output), result.output
