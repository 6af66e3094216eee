"""`fenqi training`: a training store's checklist and its one-action reset."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

NAME = "training"
app = typer.Typer(help="Training mode (培训模式): the clerks' checklist and the reset of a training store.",
                  no_args_is_help=True)
console = Console()
MERCHANT = typer.Option(help="The training merchant's code, e.g. T-PRACTICE")


@app.command("checklist")
def checklist_cmd(merchant: Annotated[str, MERCHANT] = "T-PRACTICE",
                  as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Each clerk of a training store: the scenario steps done since the last reset."""
    from fenqi.catalog.service import get_merchant_by_code
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.training.service import STEPS, checklist

    def load() -> list[dict[str, Any]]:
        with session_scope() as session:
            rows = checklist(session, get_merchant_by_code(session, merchant).id)
            return [{"user_id": c.user_id, "name": c.name, "done": sorted(c.done), "scenarios_done": c.completed}
                    for c in rows]

    rows: list[dict[str, Any]] = run_domain(load)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    table = Table("clerk", *STEPS, "scenarios")
    for r in rows:
        table.add_row(r["name"], *("✔" if s in r["done"] else "·" for s in STEPS), str(r["scenarios_done"]))
    console.print(table)


@app.command("reset")
def reset_cmd(merchant: Annotated[str, MERCHANT] = "T-PRACTICE") -> None:
    """Reset a training store: open practice applications cancelled, phones back on the shelf, checklists
    started again (practice loans stay archived in the training book)."""
    from fenqi.catalog.service import get_merchant_by_code
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.training.service import reset

    def act() -> tuple[int, int]:
        with session_scope() as session:
            done = reset(session, get_merchant_by_code(session, merchant).id, actor_user_id=None)
            return done.applications_cancelled, done.phones_restocked

    cancelled, restocked = run_domain(act)
    console.print(f"{merchant}: {cancelled} open applications cancelled, {restocked} phones back on the shelf")
