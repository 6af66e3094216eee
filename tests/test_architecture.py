"""The domains' import rules, checked with the suite (import-linter, contracts in pyproject.toml): no
import cycles between domains or inside one, and no domain importing another domain's tables."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"


def contracts() -> list[dict[str, object]]:
    return list(tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"])


def test_import_contracts_are_kept() -> None:
    pytest.importorskip("importlinter.cli", reason="import-linter is in the test extras: make install-test")
    # In its own process: the linter imports every module and leaves the logging set-up changed behind it.
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
         f"sys.exit(lint_imports(config_filename={str(PYPROJECT)!r}, no_cache=True))"],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_no_contract_lists_an_exception() -> None:
    """The rules hold without exceptions: an import that breaks one is fixed, not listed as ignored."""
    assert {str(c["id"]): c["ignore_imports"] for c in contracts() if c.get("ignore_imports")} == {}


def test_every_domain_with_tables_has_its_tables_protected() -> None:
    """A new domain's `models` is covered the day it appears: one `protected` contract per domain."""
    protected = {m for c in contracts() if c["type"] == "protected" for m in c["protected_modules"]}  # type: ignore[attr-defined]
    # A domain's tables may be split over several modules (collections: models, models_cases, …).
    domains = {f"fenqi.{p.parent.name}.{p.stem}" for p in (ROOT / "fenqi").glob("*/models*.py")}
    assert domains - protected == set(), "add a contract like the others in pyproject.toml"


def test_the_cycle_check_covers_every_domain() -> None:
    [acyclic] = [c for c in contracts() if c["type"] == "acyclic_siblings"]
    assert acyclic["ancestors"] == ["fenqi"] and acyclic["skip_descendants"] == ["fenqi.migrations"]


def test_no_domain_reaches_up_into_the_web_layer() -> None:
    """Every package of fenqi but the web layer itself (and the migrations) is a source of the contract that
    forbids importing fenqi.web: a new domain renders no page of its own."""
    [forbidden] = [c for c in contracts() if c["id"] == "pages-in-web"]
    packages = {f"fenqi.{p.parent.name}" for p in (ROOT / "fenqi").glob("*/__init__.py")}
    assert set(forbidden["source_modules"]) == packages - {"fenqi.web", "fenqi.migrations"}  # type: ignore[arg-type]
    assert forbidden["forbidden_modules"] == ["fenqi.web"]


# Imports inside a function that stay there on purpose, with why: an emulator's code loads on its first
# request (never in production). Command-line modules (`cli.py`) import lazily so `fenqi --help` is fast.
LAZY_ON_PURPOSE = {"fenqi/payments/api.py": 2, "fenqi/identity/api.py": 1}


def test_modules_import_the_project_at_their_top() -> None:
    """The dependency graph is read off each module's first lines: no `from fenqi… import` inside a function
    (the import rules above make none necessary to break a cycle)."""
    inside: dict[str, int] = {}
    for path in (ROOT / "fenqi").rglob("*.py"):
        if "migrations" in path.parts or path.name == "cli.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = {id(node) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for node in ast.walk(fn)
                 if isinstance(node, ast.ImportFrom | ast.Import) and _of_the_project(node)}
        if found:
            inside[str(path.relative_to(ROOT))] = len(found)
    assert inside == LAZY_ON_PURPOSE


def _of_the_project(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").startswith("fenqi") or node.level > 0
    return any(alias.name.startswith("fenqi") for alias in node.names)


# The one module allowed past the size limit: the generated first migration (a schema dump, not written by hand).
LONG_ON_PURPOSE = {"fenqi/migrations/versions/0001_initial_schema.py"}
MAX_LINES = 500


def test_no_module_is_over_500_lines() -> None:
    """A module past ~500 lines is split by business step (booking, repayment, …), not left to grow."""
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "fenqi").rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert {p: n for p, n in too_long.items() if p not in LONG_ON_PURPOSE} == {}
