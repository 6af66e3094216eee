"""`fenqi catalog`: phones on sale, devices by IMEI."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

NAME = "catalog"
app = typer.Typer(help="Catalog: merchants, stores, phone SKUs and devices by IMEI.", no_args_is_help=True)
console = Console()


@app.command("skus")
def skus_cmd(
    brand: Annotated[str | None, typer.Option(help="Only this brand, e.g. Apple")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Phones on sale with price and stock."""
    from fenqi.catalog.service import list_skus
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope

    def load() -> list[dict[str, Any]]:
        with session_scope() as session:
            return [s.to_json() for s in list_skus(session, brand)]

    rows: list[dict[str, Any]] = run_domain(load)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    table = Table("SKU", "phone", "price ¥", "stock")
    for r in rows:
        table.add_row(r["code"], r["name"]["zh"], r["price"], str(r["stock"]))
    console.print(table)


@app.command("device")
def device_cmd(imei: Annotated[str, typer.Argument(help="Either IMEI of the phone")]) -> None:
    """Show a device and its status."""
    from fenqi.catalog.service import get_device
    from fenqi.catalog.stock import device_json
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope

    def load() -> dict[str, Any]:
        with session_scope() as session:
            return device_json(session, get_device(session, imei))

    sys.stdout.write(json.dumps(run_domain(load), ensure_ascii=False) + "\n")


@app.command("add-device")
def add_device_cmd(
    imei: Annotated[str, typer.Option(help="15-digit IMEI (Luhn-checked)")],
    sku: Annotated[str, typer.Option(help="SKU code")],
    store: Annotated[str, typer.Option(help="Store code")],
    imei2: Annotated[str | None, typer.Option(help="Second IMEI of a dual-SIM phone")] = None,
) -> None:
    """Register a phone on a store's shelf."""
    from fenqi.catalog.service import get_store_by_code, register_device
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope

    def add() -> str:
        with session_scope() as session:
            device = register_device(session, imei=imei, imei2=imei2, sku_code=sku,
                                     store_id=get_store_by_code(session, store).id)
            return device.imei

    console.print(f"registered {run_domain(add)}")


@app.command("device-status")
def device_status_cmd(
    imei: Annotated[str, typer.Argument(help="Either IMEI of the phone")],
    status: Annotated[str, typer.Argument(help="locked | sold (unlock) | returned | in_stock | released")],
) -> None:
    """Move a device in its lifecycle."""
    from fenqi.catalog.stock import set_device_status
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope

    def move() -> str:
        with session_scope() as session:
            return set_device_status(session, imei=imei, status=status).status

    console.print(f"{imei}: {run_domain(move)}")
