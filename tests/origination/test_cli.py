"""`fenqi origination`, `fenqi catalog` and `fenqi funding` refuse bad input with exit code 2 and one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fenqi.cli import app

runner = CliRunner()


@pytest.mark.parametrize(("args", "needle"), [
    (["catalog", "device", "123"], "IMEI"),
    (["catalog", "device-status", "490154203237519", "locked"], "IMEI"),
    (["origination", "show", "987654321"], "987654321"),
    (["funding", "policy", "--strategy", "cheapest"], "cheapest"),
    (["funding", "statement", "--merchant", "NOPE", "--from", "2026-11-01", "--to", "2026-11-30"], "NOPE"),
])
def test_bad_input_exits_2_with_one_line(engine: object, args: list[str], needle: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "Traceback" not in result.output


def test_apply_with_unreadable_file(engine: object, tmp_path: Path) -> None:
    bad = tmp_path / "app.json"
    bad.write_text('{"store": 1}', encoding="utf-8")
    result = runner.invoke(app, ["origination", "apply", str(bad)])
    assert result.exit_code == 2
    assert "app.json" in result.output
