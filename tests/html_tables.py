"""A page's table as text cells (to compare a page with its CSV export)."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class _Cells(HTMLParser):
    def __init__(self, table_id: str | None, table_class: str | None) -> None:
        super().__init__()
        self.want_id, self.want_class = table_id, table_class
        self.depth = 0  # inside the wanted table
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and not self.depth and not self.rows and (
                (self.want_id and a.get("id") == self.want_id)
                or (self.want_class and self.want_class in (a.get("class") or "").split())):
            self.depth = 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(re.sub(r"\s+", " ", "".join(self.cell)).strip())
            self.cell = None
        elif self.depth and tag == "table":
            self.depth = 0

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_cells(html: str, *, table_id: str | None = None, table_class: str | None = None) -> list[list[str]]:
    """The first table with that id (or class): its rows, header included, each cell's text."""
    parser = _Cells(table_id, table_class)
    parser.feed(html)
    return parser.rows
