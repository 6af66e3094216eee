"""The business domains, in dependency order, and the parts each may contribute.

Each domain may have `models` (tables), `api` (a FastAPI `router`) and `cli` (a typer `app`
with a `NAME`); the app, the CLI and the migrations pick them up from this one list.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

DOMAINS = (
    "kit",
    "pricing",
    "catalog",
    "identity",
    "ledger",
    "servicing",
    "payments",
    "funding",
    "risk",
    "origination",
    "collections",
    "aftersales",
    "partners",
    "analytics",
    "web",
)


def domain_modules(part: str) -> list[ModuleType]:
    modules = []
    for domain in DOMAINS:
        name = f"fenqi.{domain}.{part}"
        if importlib.util.find_spec(name) is not None:
            modules.append(importlib.import_module(name))
    return modules


def load_models() -> None:
    """Import every table so that Base.metadata is complete (migrations, tests, create_all)."""
    importlib.import_module("fenqi.kit.clock")
    domain_modules("models")
