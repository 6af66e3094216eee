"""`fenqi reconcile --channel alipay|wechatpay --date D [--json]`: the day's statement against our books."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

NAME = "reconcile"
app = typer.Typer(help="Daily reconciliation (对账) with a payment channel's statement.", add_completion=False)
console = Console()

CATEGORY = {"long": "长款 long", "short": "短款 short", "amount_mismatch": "金额不符 amount",
            "status_mismatch": "状态不符 status"}


@app.callback(invoke_without_command=True)
def reconcile(
    channel: Annotated[str, typer.Option(help="alipay | wechatpay")],
    date_: Annotated[str, typer.Option("--date", help="Statement day YYYY-MM-DD (China Standard Time)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Fetch the channel's statement for the day, match it with our orders, refunds and ledger postings,
    store the run and list every discrepancy with the correcting action proposed for finance."""
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.kit.errors import InvalidInput
    from fenqi.payments import reconcile as rec

    if as_json:
        import structlog

        # Logs go to stderr so that stdout is exactly one JSON document (pipe it to jq).
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(_Stderr()))  # type: ignore[arg-type]

    def run() -> dict[str, Any]:
        try:
            day = date.fromisoformat(date_)
        except ValueError:
            raise InvalidInput.saying(f"日期 {date_!r} 无效（YYYY-MM-DD）", f"date {date_!r}: YYYY-MM-DD") from None
        spinner = console.status(f"fetching the {channel} statement for {day}…") if not as_json else nullcontext()
        with spinner, session_scope() as session:
            return rec.report_json(rec.reconcile(session, channel, day))

    result: dict[str, Any] = run_domain(run)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    _print(result)


class _Stderr:
    """Whatever sys.stderr is at the moment of writing (it may be replaced, e.g. under a test runner)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _print(r: dict[str, Any]) -> None:
    counts = r["counts"]
    console.print(f"[bold]{r['channel']}[/] {r['date']}  run #{r['run_id']}  {r['lines']} statement lines")
    console.print(f"channel net ¥{r['channel_total']}   our books ¥{r['our_total']}   matched {counts['matched']}   "
                  f"长款 {counts['long']}  短款 {counts['short']}  金额不符 {counts['amount_mismatch']}  "
                  f"状态不符 {counts['status_mismatch']}")
    if not r["discrepancies"]:
        console.print("[green]no discrepancies 无差异[/]")
        return
    table = Table("category", "kind", "out_trade_no", "out_refund_no", "channel", "ours", "proposed action")
    for d in r["discrepancies"]:
        table.add_row(CATEGORY[d["category"]], d["kind"], d["out_trade_no"], d["out_refund_no"] or "",
                      d["channel_amount"] or "—", d["our_amount"] or "—",
                      f"{d['action']}: {d['action_text']['zh']}")
    console.print(table)
    console.print("approve with POST /api/v1/payments/reconciliation-items/{id}/decision (finance)")
