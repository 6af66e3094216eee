"""`fenqi analytics`: the business's own figures from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

NAME = "analytics"
app = typer.Typer(help="Analytics: the monthly business review.", no_args_is_help=True)
console = Console()


@app.command("review")
def review_cmd(
    month: Annotated[str, typer.Option("--month", help="The month to review, e.g. 2026-03")],
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the PDF "
                                             "(default: review-YYYY-MM.pdf)")] = None,
) -> None:
    """Write the monthly business review (月度经营分析) as a PDF: funnel, campaigns, portfolio, products."""
    from fenqi.analytics.review import review_pdf
    from fenqi.kit.cli import run_domain
    from fenqi.kit.db import session_scope

    def make() -> bytes:
        with session_scope() as session:
            return review_pdf(session, month.strip())

    pdf = run_domain(make)
    target = out or Path(f"review-{month.strip()}.pdf")
    target.write_bytes(pdf)
    console.print(f"{target} ({len(pdf):,} bytes)")
