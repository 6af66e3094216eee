"""`fenqi funding`: partners and quotas, the routing policy, merchant settlement statements."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer

NAME = "funding"
app = typer.Typer(help="Funding partners, routing policy and merchant statements.", no_args_is_help=True)


def _print(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1) + "\n")


def _run(action: Any) -> Any:
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope

    def wrapped() -> Any:
        with session_scope() as session:
            return action(session)

    return run_domain(wrapped)


@app.command("funders")
def funders_cmd() -> None:
    """Partners, their products and today's quota left."""
    from sqlalchemy import select

    from fenqi.funding.models import Funder
    from fenqi.funding.service import funder_json
    from fenqi.kit.clock import business_date

    def go(session: Any) -> list[dict[str, Any]]:
        today = business_date(session)
        return [funder_json(session, f, today) for f in session.scalars(select(Funder).order_by(Funder.code))]

    _print(_run(go))


@app.command("policy")
def policy_cmd(
    strategy: Annotated[str | None, typer.Option(help="lowest_cost | quota_balancing | priority")] = None,
    priority: Annotated[str, typer.Option(help="Comma-separated funder codes for the priority strategy")] = "",
    pilot: Annotated[str | None, typer.Option(help="Pilot funder code")] = None,
    pilot_share: Annotated[str, typer.Option(help="Share of applications for the pilot, e.g. 0.10")] = "0",
) -> None:
    """Show the routing policy, or set a new version with --strategy."""
    from fenqi.funding.service import current_policy, set_policy
    from fenqi.kit.money import fmt_rate, parse_rate

    def go(session: Any) -> dict[str, Any]:
        if strategy:
            set_policy(session, strategy=strategy, priority_list=[c for c in priority.split(",") if c],
                       pilot_funder=pilot, pilot_share=parse_rate(pilot_share, field="pilot_share"))
        p = current_policy(session)
        return {"strategy": p.strategy.value, "priority_list": list(p.priority_list), "pilot_funder": p.pilot_funder,
                "pilot_share": fmt_rate(p.pilot_share)}

    _print(_run(go))


@app.command("statement")
def statement_cmd(
    merchant: Annotated[str, typer.Option(help="Merchant code")],
    start: Annotated[str, typer.Option("--from", help="YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="YYYY-MM-DD")],
) -> None:
    """A merchant's settlement statement: disbursements with subsidy and fee deducted."""
    from fenqi.catalog.service import get_merchant_by_code
    from fenqi.funding.disbursement import settlement_statement
    from fenqi.kit.errors import InvalidInput

    def go(session: Any) -> dict[str, Any]:
        try:
            start_d, end_d = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            raise InvalidInput.saying("--from/--to 须为 YYYY-MM-DD", "--from/--to must be YYYY-MM-DD") from None
        merchant_id = get_merchant_by_code(session, merchant).id
        return settlement_statement(session, merchant_id=merchant_id, start=start_d, end=end_d).to_json()

    _print(_run(go))
