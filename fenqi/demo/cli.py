"""`fenqi simulate`: synthetic shoppers on synthetic loans, the portfolio and the ledger check after D days."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def simulate_cmd(
    loans: Annotated[int, typer.Option(help="Synthetic loans to book", min=1, max=2_000_000)] = 2000,
    days: Annotated[int, typer.Option(help="Business days to run", min=1, max=5000)] = 400,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same result)")] = 1,
    database_url: Annotated[
        str | None,
        typer.Option(help="An empty database to simulate in (default: a new temporary SQLite file)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Stress-test the products: book N loans, run D business days of random shopper behaviour, print the book."""
    import tempfile
    from pathlib import Path

    from fenqi.demo.simulate import simulate
    from fenqi.kit.db import make_engine
    from fenqi.kit.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="fenqi-sim-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'simulation.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            report = simulate(engine, loans=loans, days=days, seed=seed, progress=not as_json)
        except RuntimeError as exc:
            # the one refusal: a database that already has loans (the simulation books its own)
            err_console.print(f"错误：模拟需要一个没有贷款的数据库 | Error: {exc}")
            raise typer.Exit(2) from None
        finally:
            engine.dispose()
    data = report.to_json()
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        _print_simulation(data)
    if not report.check.get("ok"):
        raise typer.Exit(1)


def _print_simulation(d: dict[str, object]) -> None:
    p, check = d["portfolio"], d["ledger_check"]
    if not isinstance(p, dict) or not isinstance(check, dict):
        raise TypeError("a simulation report has a portfolio and a ledger check")
    console.print(
        f"[bold]simulation[/] {d['loans']} loans × {d['days']} days, seed {d['seed']}: "
        f"{d['seconds']} s ({d['loan_days_per_second']} loan·days/s; COB {d['cob_seconds']} s)"
    )
    table = Table("figure", "value")
    for key, value in p.items():
        table.add_row(key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value))
    console.print(table)
    console.print("ledger check: " + ("[bold green]OK[/]" if check.get("ok") else f"[bold red]FAILED[/] {check}"))


def register(root: typer.Typer) -> None:
    root.command("simulate")(simulate_cmd)
