"""`fenqi ledger check` and `fenqi ledger trial-balance`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

NAME = "ledger"
app = typer.Typer(help="The ledger: checks and the trial balance (总账、试算平衡).", no_args_is_help=True)
console = Console()


@app.command("check")
def check(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    book: Annotated[str, typer.Option(help="real, or training (the training stores' practice)")] = "real",
) -> None:
    """Every entry balances, the trial balance nets to zero, every loan equals its ledger. Exit 1 if not."""
    from fenqi.kit.db import session_scope
    from fenqi.ledger.check import check_books

    with session_scope() as session:
        report = check_books(session, book=book)
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False, default=str) + "\n")
    else:
        print_check(report)
    if not report["ok"]:
        raise typer.Exit(1)


def print_check(r: dict[str, object]) -> None:
    tb = r["trial_balance"]
    assert isinstance(tb, dict)
    mark = "[bold green]OK[/]" if r["ok"] else "[bold red]FAILED[/]"
    console.print(f"ledger check {mark}: {r['entries']} entries, {r['lines']} lines, {r['loans']} loans")
    console.print(f"  trial balance: debits {tb['debits']} fen, credits {tb['credits']} fen, net {tb['net']}")
    for key in (
        "unbalanced_entries",
        "orphan_lines_of",
        "snapshot_differences",
        "loan_mismatches",
        "schedule_mismatches",
        "delinquency_mismatches",
    ):
        items = r[key]
        assert isinstance(items, list)
        console.print(f"  {key.replace('_', ' ')}: {len(items)}" + ("" if not items else f"  e.g. {items[:3]}"))


@app.command("trial-balance")
def trial_balance_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Debits, credits and balance of every account in the chart."""
    from fenqi.kit.db import session_scope
    from fenqi.ledger.views import trial_balance_json

    with session_scope() as session:
        data = trial_balance_json(session)
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        return
    table = Table("account", "科目", "kind", "debits", "credits", "balance")
    for row in data["accounts"]:
        table.add_row(row["account"], row["name_zh"], row["kind"], row["debits"], row["credits"], row["balance"])
    console.print(table)
    console.print(f"total debits ¥{data['total_debits']}  total credits ¥{data['total_credits']}")
