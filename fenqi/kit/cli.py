"""What every domain's commands share: a domain error said in both languages, never a traceback.

    @app.command("create")
    def create(...) -> None:
        run_domain(lambda: ...)  # a DomainError → one line on stderr, exit code 2
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from fenqi.kit.errors import DomainError

err_console = Console(stderr=True)


def fail(exc: DomainError) -> None:
    """Bad input: one line in both languages on stderr, exit code 2, never a traceback."""
    err_console.print(f"错误：{exc.message('zh')} | Error: {exc.message('en')}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def run_domain(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except DomainError as exc:
        fail(exc)
