"""`fenqi origination`, `fenqi catalog` and `fenqi funding` refuse bad input with exit code 2 and one line."""

from __future__ import annotations

import re
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


@pytest.mark.parametrize(("args", "zh", "en"), [
    (["identity", "create-user", "--role", "shopper", "--name", "王顾客"], "顾客账号须提供手机号", "a phone number"),
    (["identity", "create-user", "--role", "clerk", "--name", "李店员", "--password", "x"], "员工账号须提供登录名",
     "a sign-in name"),
    (["risk", "review", "1", "--verdict", "maybe", "--note", "n"], "审核结论须为", "the verdict is approve or decline"),
    (["risk", "score", "/nonexistent/app.json"], "无法读取或不是 JSON", "cannot be read or is not JSON"),
])
def test_refusals_are_said_in_both_languages(engine: object, args: list[str], zh: str, en: str) -> None:
    """One line, Chinese then English; the Chinese half is Chinese (no English words but the flags and names)."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    line = " ".join(result.output.split())
    assert zh in line and en in line, line
    chinese = line.split("| Error:")[0]
    assert not re.search(r"(?<![-/.\w])[a-z]{4,}(?![\w.])", chinese.replace("approve", "").replace("decline", "")), \
        chinese


def test_apply_with_unreadable_file(engine: object, tmp_path: Path) -> None:
    bad = tmp_path / "app.json"
    bad.write_text('{"store": 1}', encoding="utf-8")
    result = runner.invoke(app, ["origination", "apply", str(bad)])
    assert result.exit_code == 2
    assert "app.json" in result.output
