"""`fenqi risk` commands and the demo seed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fenqi.cli import app
from fenqi.risk import policy as policies
from fenqi.risk.rules import DEFAULT_POLICY
from fenqi.risk.schemas import RiskInput, input_to_json
from fenqi.risk.seed import DEMO_LISTED_IMEI, seed

MakeInput = Callable[..., RiskInput]
runner = CliRunner()


def test_score_explains_an_application(engine: Engine, make_input: MakeInput, tmp_path: Path) -> None:
    source = tmp_path / "application.json"
    source.write_text(json.dumps(input_to_json(make_input(age=17))), encoding="utf-8")
    result = runner.invoke(app, ["risk", "score", str(source), "--json"])
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["outcome"] == "decline" and decision["reasons"][0]["code"] == "age_out_of_range"
    assert decision["id"] is None and len(decision["points"]) == 11
    table = runner.invoke(app, ["risk", "score", str(source)])
    assert table.exit_code == 0 and "age_out_of_range" in table.output


def test_score_refuses_bad_input_with_exit_2(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "bad.json"
    source.write_text('{"age": 30}', encoding="utf-8")
    result = runner.invoke(app, ["risk", "score", str(source)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    missing = runner.invoke(app, ["risk", "score", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2


def test_rules_lists_the_policy(engine: Engine) -> None:
    result = runner.invoke(app, ["risk", "rules", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["version"] == DEFAULT_POLICY.version
    text = runner.invoke(app, ["risk", "rules"])
    assert "velocity_device" in text.output and "installment_to_income" in text.output


def test_seed_stores_the_rules_version_and_a_listed_device(session: Session, make_input: MakeInput) -> None:
    notes = seed(session)
    assert DEFAULT_POLICY.version in notes[0] and "emulated" in notes[0]
    assert [v.version for v in policies.list_versions(session)] == [DEFAULT_POLICY.version]
    assert seed(session) == notes  # idempotent
    from fenqi.risk import service

    assert service.decide(session, make_input(device_imei=DEMO_LISTED_IMEI)).outcome == "decline"


def test_publish_and_activate_from_the_command_line(engine: Engine, tmp_path: Path) -> None:
    from sqlalchemy import delete

    from fenqi.identity.models import AuditEntry
    from fenqi.kit.db import session_scope
    from fenqi.risk.models import RiskPolicy

    exported = json.loads(runner.invoke(app, ["risk", "rules", "--json"]).output)
    exported["version"] = "cli-test-1"
    exported["decline_below"] = 470
    source = tmp_path / "policy.json"
    source.write_text(json.dumps(exported), encoding="utf-8")
    try:
        published = runner.invoke(app, ["risk", "publish", str(source), "--note", "test"])
        assert published.exit_code == 0, published.output
        shown = json.loads(runner.invoke(app, ["risk", "rules", "--json"]).output)
        assert shown["version"] == "cli-test-1" and shown["decline_below"] == 470
        assert runner.invoke(app, ["risk", "publish", str(source)]).exit_code == 2  # a version is used once
        assert runner.invoke(app, ["risk", "activate", "no-such-version"]).exit_code == 2
        source.write_text(json.dumps({**exported, "version": "cli-test-2", "grades": []}), encoding="utf-8")
        assert runner.invoke(app, ["risk", "publish", str(source)]).exit_code == 2
    finally:
        # The command commits (as a command does); leave the shared test database as it was.
        with session_scope() as session:
            session.execute(delete(RiskPolicy).where(RiskPolicy.version.like("cli-test-%")))
            session.execute(delete(AuditEntry).where(AuditEntry.subject.like("risk_policy:cli-test-%")))
