"""`fenqi cob run` and `fenqi simulate`."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

NAME = "cob"
app = typer.Typer(help="Close-of-business (日终批处理).", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _parse_date(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        err_console.print(f"错误：日期格式应为 YYYY-MM-DD：{raw} | Error: a date is YYYY-MM-DD: {raw}")
        raise typer.Exit(2) from None


@app.command("run")
def run(
    until: Annotated[
        str | None, typer.Option("--date", help="Close every business date up to and including this one")
    ] = None,
    on_workers: Annotated[
        bool, typer.Option("--on-workers", help="Enqueue one job per chunk for `fenqi worker` (PostgreSQL) and wait")
    ] = False,
    chunk_size: Annotated[
        int | None, typer.Option(help="Loans per chunk (default FENQI_COB_CHUNK_SIZE)", min=1)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Close the current business date (or every date through --date) and advance the business date.

    Idempotent and resumable: a date already closed changes nothing; a run killed midway resumes where it stopped.
    """
    from fenqi.kit.db import get_engine
    from fenqi.servicing.cob_runs import run_cob

    engine = get_engine()
    if on_workers and engine.dialect.name != "postgresql":
        err_console.print("错误：--on-workers 需要 PostgreSQL | Error: --on-workers needs PostgreSQL")
        raise typer.Exit(2)
    reports = run_cob(engine, _parse_date(until), chunk_size=chunk_size, progress=not as_json and not on_workers,
                      on_workers=on_workers)
    if as_json:
        sys.stdout.write(json.dumps([r.to_json() for r in reports]) + "\n")
        return
    table = Table("business date", "chunks", "loans", "due", "penalties", "write-offs", "credits", "seconds")
    for r in reports:
        table.add_row(
            r.business_date.isoformat(),
            str(r.chunks),
            str(r.loans),
            str(r.due),
            str(r.penalty),
            str(r.write_off),
            str(r.credit),
            f"{r.seconds:.2f}",
        )
    console.print(table)


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

    from fenqi.kit.db import make_engine
    from fenqi.kit.migrate import upgrade
    from fenqi.servicing.simulate import simulate

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
