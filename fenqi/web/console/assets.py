"""Static files of the consoles, served by the app itself so that nothing comes from the internet:
our stylesheet and scripts (fenqi/web/static/console/) and the vendored Apache ECharts bundle
(fenqi/web/static/console/vendor/echarts.min.js, with its licence and notice next to it)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from fenqi.kit.errors import NotFound

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "static" / "console"
VENDOR = STATIC / "vendor"
TYPES = {".css": "text/css; charset=utf-8", ".js": "application/javascript; charset=utf-8",
         ".txt": "text/plain; charset=utf-8"}
CACHE = {"Cache-Control": "public, max-age=3600"}


@cache
def _read(path: Path) -> bytes:
    return path.read_bytes()


@router.get("/static/console/vendor/{name}")
def vendor_asset(name: str) -> Response:
    """The vendored scripts and their licence texts (read once per process)."""
    return _serve(VENDOR, name)


@router.get("/static/console/{name}")
def console_asset(name: str) -> Response:
    return _serve(STATIC, name)


def _serve(folder: Path, name: str) -> Response:
    path = folder / name
    # Only our own files by name: no subdirectories, no "..".
    if "/" in name or name.startswith(".") or path.suffix not in TYPES or not path.is_file():
        raise NotFound.saying(f"静态文件 {name}", f"static file {name}")
    return Response(_read(path), media_type=TYPES[path.suffix], headers=CACHE)
