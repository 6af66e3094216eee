"""`fenqi aftersales`: after-sales cases (returns, exchanges, repairs) on the command line."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

NAME = "aftersales"
app = typer.Typer(help="After-sales: returns, exchanges and repairs (售后).", no_args_is_help=True)
console = Console()


def _operator() -> Any:
    from fenqi.identity.principal import Principal

    return Principal(user_id=0, role="admin", merchant_id=None, display_name="cli")


@app.command("list")
def list_cmd(
    status: Annotated[str | None, typer.Option(help="open, requested, inspected, processing, completed, ...")] = None,
    loan: Annotated[int | None, typer.Option(help="Only this loan's cases")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """After-sales cases, newest first."""
    from fenqi.aftersales.service import case_json, list_cases
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope

    def load() -> list[dict[str, Any]]:
        with session_scope() as session:
            return [case_json(session, c) for c in list_cases(session, _operator(), status=status, loan_id=loan)]

    rows: list[dict[str, Any]] = run_domain(load)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    table = Table("case", "loan", "IMEI", "asked", "outcome", "status", "refund ¥", "day")
    for r in rows:
        table.add_row(str(r["id"]), str(r["loan_id"]), r["imei"], r["requested"], r["outcome"] or "-", r["status"],
                      r["refund_total"], str(r["day"]))
    console.print(table)


@app.command("show")
def show_cmd(case_id: int, as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """One case: proposal, steps, refunds, events."""
    from fenqi.aftersales.service import case_json, get_case
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.kit.localtime import shown_time

    def load() -> dict[str, Any]:
        with session_scope() as session:
            return case_json(session, get_case(session, case_id))

    body: dict[str, Any] = run_domain(load)
    if as_json:
        sys.stdout.write(json.dumps(body, ensure_ascii=False) + "\n")
        return
    console.print(f"[bold]售后单 {body['id']}[/bold]  loan {body['loan_id']}  IMEI {body['imei']}  "
                  f"{body['requested']}/{body['reason']} → {body['outcome'] or '-'}  [{body['status']}]")
    if body["proposal"]:
        console.print("允许 allowed: " + ", ".join(body["proposal"]["allowed"]) + " — "
                      + body["proposal"]["explanation"]["zh"])
    for r in body["refunds"]:
        console.print(f"  退款 {r['channel']} {r['out_trade_no']} ¥{r['amount']} {r['status']} "
                      f"(attempt {r['attempt']})")
    for e in body["events"]:
        console.print(f"  {shown_time(e['at'], seconds=True)}  {e['text']}")  # Beijing time, as the pages show


@app.command("resume")
def resume_cmd() -> None:
    """Finish unfinished returns (retry refunds the channel refused); run it on a schedule."""
    from fenqi.aftersales.returns import resume_all
    from fenqi.kit.cli import run_domain

    counts = run_domain(resume_all)
    sys.stdout.write(json.dumps(counts) + "\n")
