"""`fenqi cob run`."""

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
