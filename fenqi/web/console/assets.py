"""Static files of the consoles, served by the app itself so that nothing comes from the internet:
our stylesheet and scripts (fenqi/web/static/console/) and the plotly.min.js bundled in the `plotly`
Python package (the dashboards' charts work offline)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from fenqi.kit.errors import NotFound

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "static" / "console"
TYPES = {".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8"}
CACHE = {"Cache-Control": "public, max-age=3600"}


@cache
def plotly_js() -> bytes:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


@router.get("/static/console/plotly.min.js")
def plotly_script() -> Response:
    return Response(plotly_js(), media_type=TYPES[".js"], headers=CACHE)


@router.get("/static/console/{name}")
def console_asset(name: str) -> Response:
    path = STATIC / name
    # Only our own files by name: no subdirectories, no "..".
    if "/" in name or name.startswith(".") or path.suffix not in TYPES or not path.is_file():
        raise NotFound(f"static file {name}")
    return Response(path.read_bytes(), media_type=TYPES[path.suffix], headers=CACHE)
