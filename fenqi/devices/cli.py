"""`fenqi devices …`: enrol a phone's lock agent, show a loan's devices, and the device simulator."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

NAME = "devices"
app = typer.Typer(help="Financed-phone lock (锁机): enrolment, state, the check-in simulator.", add_completion=False)
console = Console()


@app.command("enrol")
def enrol(device_id: Annotated[int, typer.Argument(help="The device's id (see `fenqi devices show`)")]) -> None:
    """Issue the lock agent's token (printed once; only its hash is kept)."""
    from fenqi.devices import service
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope

    def act() -> None:
        with session_scope() as session:
            device, token = service.enrol(session, device_id, actor_user_id=None)
            console.print(f"device {device.id}  token (shown once): {token}")

    run_domain(act)


@app.command("show")
def show(loan_id: Annotated[int, typer.Argument(help="Loan id")]) -> None:
    """A loan's phones: state and history."""
    from fenqi.devices import service
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope
    from fenqi.kit.localtime import shown_time

    def act() -> None:
        with session_scope() as session:
            for d in service.loan_devices(session, loan_id):
                console.print(f"device {d.id}  imei {d.imei[:6]}*******{d.imei[-2:]}  state {d.state}")
                for e in reversed(service.history(session, d.id)):
                    console.print(f"  {shown_time(e.at, seconds=True)}  {e.kind:<18} {e.from_state or '-'} → "
                                  f"{e.to_state or '-'}  ({e.reason}) {e.detail}")

    run_domain(act)


@app.command("simulate")
def simulate(
    devices: Annotated[int, typer.Option("--devices", min=1, max=100_000, help="How many phones")] = 1000,
    url: Annotated[str, typer.Option(help="The running server")] = "http://127.0.0.1:8000",
    rounds: Annotated[int, typer.Option(min=1, max=1000, help="Check-ins per phone")] = 1,
    concurrency: Annotated[int, typer.Option(min=1, max=2000)] = 64,
    prefix: Annotated[str, typer.Option(help="Loan reference prefix of the simulated phones")] = "sim",
    replay: Annotated[bool, typer.Option(help="Replay each phone's first request (must be refused)")] = False,
    baseline: Annotated[bool, typer.Option(help="Also load /healthz the same way, for the ratio")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Provision N phones on loans in FENQI_DATABASE_URL (the server's database), then check them in
    concurrently over HTTP, verifying every signed answer as the phone would."""
    from fenqi.devices import simulate as sim

    fleet = sim.provision(devices, prefix=prefix)
    report = sim.run(url, fleet, rounds=rounds, concurrency=concurrency, replay=replay, screens=True).to_json()
    out: dict[str, Any] = {"checkin": report}
    if baseline:
        base = sim.baseline(url, devices * rounds, concurrency).to_json()
        out["healthz"] = base
        out["ratio_rate"] = round(report["per_second"] / base["per_second"], 3) if base["per_second"] else None
    if as_json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        console.print_json(json.dumps(out, ensure_ascii=False))
    if report["errors"] or report["bad_signatures"] or report["replays_accepted"]:
        raise typer.Exit(1)
