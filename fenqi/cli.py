"""The `fenqi` command: serve, demo, quote, db, and each domain's own commands."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fenqi.domains import domain_modules
from fenqi.kit.cli import run_domain

app = typer.Typer(help="Fenqi 分期: phone sales on installments.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _start() -> None:
    """Every command runs with the domains wired to each other (handlers, ports)."""
    from fenqi.wiring import install

    install()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema of FENQI_DATABASE_URL to the newest migration."""
    from fenqi.kit.migrate import upgrade

    upgrade()
    console.print("schema up to date")


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """Autogenerate a migration from the models (for developers)."""
    from fenqi.kit.migrate import revision

    revision(message)


@app.command()
def quote(
    price: Annotated[str, typer.Option(help="Phone price in yuan, e.g. 5999")],
    term: Annotated[str, typer.Option(help="Number of monthly periods, 1-60")],
    method: Annotated[str, typer.Option(help="equal-installment | equal-principal | flat-fee | interest-free")],
    down_payment: Annotated[str, typer.Option(help="Down payment in yuan")] = "0",
    annual_rate: Annotated[str, typer.Option(help="Annual interest rate as a fraction, 0.12 = 12%")] = "0",
    fee_rate: Annotated[str, typer.Option(help="Per-period fee rate as a fraction (flat-fee)")] = "0",
    start: Annotated[str | None, typer.Option(help="Start date YYYY-MM-DD (default: business date)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Price one plan: the schedule, totals and APR (年化利率)."""
    from fenqi.kit.db import session_scope
    from fenqi.pricing.service import quote_from_input

    def price_it() -> dict[str, Any]:
        with session_scope() as session:
            today = _business_date_or_today(session)
            return quote_from_input(
                None, today=today, price=price, down_payment=down_payment, term=term, method=method,
                annual_rate=annual_rate, fee_rate=fee_rate, start=start,
            ).to_json()

    result: dict[str, Any] = run_domain(price_it)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    print_quote(result)


def _business_date_or_today(session: Any) -> Any:
    """The business date if the database has been set up; a quote needs no database otherwise."""
    from datetime import date

    from sqlalchemy.exc import SQLAlchemyError

    from fenqi.kit.clock import business_date

    try:
        return business_date(session)
    except SQLAlchemyError:
        session.rollback()
        return date.today()


def print_quote(q: dict[str, Any]) -> None:
    from fenqi.kit.money import fmt_percent

    console.print(
        f"[bold]{q['method']}[/]  {q['term']} 期  price ¥{q['price']}  down payment ¥{q['down_payment']}  "
        f"financed ¥{q['financed']}"
    )
    console.print(f"[bold red]年化利率 APR {fmt_percent(q['apr'])}[/]  "
                  f"(annual rate {fmt_percent(q['annual_rate'])}, fee rate {fmt_percent(q['fee_rate'])}/period)")
    table = Table("期 #", "due", "principal", "interest", "fee", "total", "remaining")
    for i in q["installments"]:
        table.add_row(str(i["period"]), i["due_date"], i["principal"], i["interest"], i["fee"], i["total"],
                      i["remaining_principal"])
    console.print(table)
    console.print(f"total interest ¥{q['total_interest']}  total fee ¥{q['total_fee']}  "
                  f"total repayment ¥{q['total_repayment']}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Web worker processes (PostgreSQL; SQLite serves with one)",
                                         min=1, max=64)] = 1,
) -> None:
    """Run the web app on FENQI_DATABASE_URL (schema must be up to date).

    On PostgreSQL the web processes keep no background work or state of their own: jobs go to the
    database queue and `fenqi worker` processes run them. On SQLite (the demo) this process runs them."""
    import uvicorn

    from fenqi.kit.settings import get_settings

    sqlite = get_settings().database_url.startswith("sqlite")
    if sqlite and workers > 1:
        err_console.print("错误：SQLite 仅支持单个 Web 进程 | Error: SQLite serves with one web process; "
                          "use PostgreSQL for --workers > 1")
        raise typer.Exit(2)
    if sqlite:
        from fenqi.kit.jobs import start_in_process

        start_in_process()
    if workers > 1:
        # Each worker process imports the app itself; on a busy host that can take longer than uvicorn's
        # default 5 s health check, which would then kill and respawn it in a loop.
        uvicorn.run("fenqi.api:create_app", factory=True, host=host, port=port, workers=workers, log_level="info",
                    timeout_worker_healthcheck=60)
        return
    from fenqi.api import create_app

    # log_config=None: uvicorn's own lines go through fenqi's logging (redacted, no query strings).
    uvicorn.run(create_app(), host=host, port=port, log_level="info", log_config=None)


@app.command()
def worker(
    queues: Annotated[str | None, typer.Option(help="Comma-separated queues to work on (default: all)")] = None,
    concurrency: Annotated[int, typer.Option(help="Jobs run at once in this process", min=1, max=256)] = 1,
) -> None:
    """Run background jobs from the PostgreSQL queue (procrastinate) until SIGTERM/SIGINT.

    Start as many as needed, on as many hosts as needed; each job runs once, a job whose worker dies is
    retried by another, and the periodic jobs (the nightly close) are scheduled once across them all."""
    import importlib.util

    from fenqi.kit.jobs import run_worker
    from fenqi.kit.settings import get_settings

    if not get_settings().database_url.startswith("postgresql"):
        err_console.print("错误：后台任务进程需要 PostgreSQL（演示版在 Web 进程内运行任务） | Error: `fenqi worker` "
                          "needs PostgreSQL (the SQLite demo runs jobs inside `fenqi serve`)")
        raise typer.Exit(2)
    if importlib.util.find_spec("fenqi.wiring") is not None:
        importlib.import_module("fenqi.wiring").install()
    names = [q.strip() for q in queues.split(",") if q.strip()] if queues else None
    run_worker(names, concurrency)


@app.command("prepare-fonts")
def prepare_fonts() -> None:
    """Cut the CJK fonts PDFs use down to the characters Chinese documents need (once per install; seconds).

    Contracts and repair slips then parse a ~1.8 MB font once per process instead of a 20 MB collection, and
    subset it quickly for each document. Without it they still render, from the system font, more slowly."""
    from fenqi.origination.contract_pdf import prepare_fonts as prepare

    for path in run_domain(prepare):
        console.print(f"prepared {path}", soft_wrap=True)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Set up the demo data and exit")] = False,
) -> None:
    """Set up the embedded database with demo data and start the whole system."""
    from fenqi.kit.db import session_scope
    from fenqi.kit.migrate import upgrade
    from fenqi.kit.settings import get_settings
    from fenqi.payments.settings import get_payment_settings

    os.environ.setdefault("FENQI_BASE_URL", f"http://{host}:{port}")
    # main() already read (and cached) the settings before this default existed: read them again, or the
    # payment gateways and links of a demo on another port would still point at port 8000.
    get_settings.cache_clear()
    get_payment_settings.cache_clear()
    upgrade()
    notes: list[str] = []
    with session_scope() as session:
        for module in domain_modules("seed"):
            notes.extend(module.seed(session) or [])
    console.print(f"[bold]Fenqi demo[/] on {get_settings().database_url}")
    for note in notes:
        console.print(f"  {note}")
    console.print(f"  open [link]http://{host}:{port}/[/link]   API docs: http://{host}:{port}/docs")
    if not no_serve:
        serve(host=host, port=port)


def _add_domain_commands() -> None:
    for module in domain_modules("cli"):
        if hasattr(module, "app"):
            app.add_typer(module.app, name=module.NAME)
        if hasattr(module, "register"):  # top-level commands (e.g. `fenqi simulate`)
            module.register(app)


_add_domain_commands()


def main() -> None:
    from pydantic import ValidationError

    from fenqi.kit.log import configure_logging
    from fenqi.kit.settings import get_settings, settings_problems
    from fenqi.payments.settings import get_payment_settings

    try:
        # Every FENQI_* setting is checked before any command runs: a wrong one stops here, in one line each.
        get_settings()
        get_payment_settings()
    except ValidationError as exc:
        for problem in settings_problems(exc):
            err_console.print(f"设置有误 | Invalid settings: {problem}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    configure_logging()
    app()
