"""`fenqi origination`: applications from the command line, acting as an operator (user id 0)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

NAME = "origination"
app = typer.Typer(help="Applications: submit, offer, contract, sign, cancel.", no_args_is_help=True)
console = Console()
OPERATOR_ID = 0  # who the command line acts as in consent and audit records


def _operator() -> Any:
    from fenqi.identity.deps import Principal

    return Principal(user_id=OPERATOR_ID, role="admin", merchant_id=None, display_name="command line")


def _print(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=1) + "\n")


def _run(action: Any) -> Any:
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope

    def wrapped() -> Any:
        with session_scope() as session:
            return action(session)

    return run_domain(wrapped)


@app.command("apply")
def apply_cmd(file: Annotated[Path, typer.Argument(help="Application JSON (as POST /api/v1/applications)")]) -> None:
    """Submit an application for a walk-in shopper; prints the decision with its reasons."""
    from pydantic import ValidationError

    from fenqi.kit.cli import fail
    from fenqi.kit.errors import InvalidInput
    from fenqi.origination.schemas import ApplicationIn
    from fenqi.origination.service import Origin, application_json, submit

    try:
        body = ApplicationIn.model_validate_json(file.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        fail(InvalidInput(f"{file}: {str(exc).splitlines()[0]}"))
        return

    def go(session: Any) -> dict[str, Any]:
        result = submit(session, body, _operator(), Origin(ip="cli", device="fenqi origination apply"))
        return {"application": application_json(result.application), "decision": result.decision.to_json()}

    _print(_run(go))


@app.command("show")
def show_cmd(application_id: int) -> None:
    """One application (personal data masked)."""
    from fenqi.origination.service import application_json, get_application

    _print(_run(lambda s: application_json(get_application(s, application_id))))


@app.command("list")
def list_cmd(status: Annotated[str | None, typer.Option(help="approved, referred, declined, signed, ...")] = None,
             limit: int = 20) -> None:
    """Recent applications."""
    from fenqi.origination.service import application_json, list_applications

    _print(_run(lambda s: [application_json(a) for a in list_applications(s, _operator(), status, limit)]))


@app.command("offer")
def offer_cmd(application_id: int) -> None:
    """The offer: APR first, the schedule and the total cost."""
    from fenqi.origination.service import get_application
    from fenqi.origination.signing import offer

    _print(_run(lambda s: offer(s, get_application(s, application_id))))


@app.command("contract")
def contract_cmd(application_id: int,
                 out: Annotated[Path, typer.Option(help="Where to write the PDF")] = Path("contract.pdf")) -> None:
    """Draw up the e-contract PDF; prints its SHA-256 (what `sign` needs)."""
    from fenqi.origination.service import get_application
    from fenqi.origination.signing import generate_contract

    def go(session: Any) -> tuple[str, bytes]:
        doc = generate_contract(session, get_application(session, application_id))
        return doc.sha256, doc.pdf

    sha, pdf = _run(go)
    out.write_bytes(pdf)
    console.print(f"{out}  sha256 {sha}")


@app.command("sign")
def sign_cmd(
    application_id: int,
    sha256: Annotated[str, typer.Option(help="SHA-256 of the contract shown to the shopper")],
    imei: Annotated[str | None, typer.Option(help="The phone handed over")] = None,
    channel: Annotated[str, typer.Option(help="alipay | wechatpay (down payment)")] = "alipay",
) -> None:
    """Sign for the shopper: loan, IMEI, disbursement, down-payment order."""
    from fenqi.origination.consents import CURRENT, ConsentKind
    from fenqi.origination.service import Origin, get_application
    from fenqi.origination.signing import sign

    _print(_run(lambda s: sign(
        s, get_application(s, application_id), contract_sha256=sha256, consent_version=CURRENT[ConsentKind.E_CONTRACT],
        imei=imei, channel=channel, principal=_operator(), origin=Origin(ip="cli", device="fenqi origination sign"),
    ).to_json()))


@app.command("cancel")
def cancel_cmd(application_id: int) -> None:
    """Withdraw an open application (its reserved phone goes back on the shelf)."""
    from fenqi.origination.service import application_json, cancel, get_application

    def go(session: Any) -> dict[str, Any]:
        app_ = get_application(session, application_id)
        cancel(session, app_)
        return application_json(app_)

    _print(_run(go))
