"""Shopper pages: every page a shopper opens, answered by a real server over the demo data.

The demo world (`fenqi demo --no-serve`: the catalog, 180 business days of simulated sales, several
hundred loans) is built in a temporary SQLite file, or `--database PATH` reuses one (e.g. the
`fenqi.db` of `make demo`). A separate server process (uvicorn, as `fenqi serve`) answers; this process
signs in as a demo shopper who has an overdue loan (the heaviest loan pages) and asks for each shopper
page in turn, over one keep-alive connection. The pages are read from the app's routes, so a page added
later is walked too; a page that needs a record the demo has no example of is left out (and named).
Baseline in the same run: GET /healthz (the server's own floor). Goal: every page p50 and p99 ≤ 300 ms.
Options: --database PATH, --repeat N (default 30 per page, after 3 warm-up requests).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.bench_pricing import free_port
from bench.machine import percentile

GOAL_MS = 300.0
# The shopper's pages: the shop, the calculator, sign-in, the terms, a payment's page and everything under
# /shop; not the JSON status poll, the contract's page images and PDF, or the short links of texts (redirects).
SHOPPER = re.compile(r"^/($|calculator$|me$|login|shop|legal/|payments/orders/)")
NOT_PAGES = re.compile(r"(/status$|\.(png|pdf)$)")
# Pages that need a query to show anything, filled like path parameters.
QUERIES = {"/shop/apply": "?sku={code}&product={product}&term={term}"}


def build_demo(directory: str) -> Path:
    path = Path(directory) / "demo.db"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fenqi", "demo", "--no-serve"], cwd=directory, check=True,
                   env={**os.environ, "FENQI_DATABASE_URL": f"sqlite:///{path}"}, capture_output=True)
    print(f"demo world built in {time.perf_counter() - started:.0f} s ({path})")
    return path


def start_server(port: int, database: Path, directory: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "fenqi.api:create_app", "--factory", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=directory, env={**os.environ, "FENQI_DATABASE_URL": f"sqlite:///{database}"},
    )
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


def demo_shopper() -> tuple[str, dict[str, str]]:
    """A session token of the demo shopper with an overdue loan, and the ids of their records."""
    from sqlalchemy import text

    from fenqi.identity.models import User
    from fenqi.identity.sessions import start_session
    from fenqi.kit.db import session_scope

    with session_scope() as s:
        row = s.execute(text(
            "SELECT a.shopper_user_id, a.id, a.loan_id, a.sku_code, a.product_code, a.term FROM application a "
            "JOIN loan l ON l.id = a.loan_id WHERE l.status = 'overdue' AND a.shopper_user_id IS NOT NULL "
            "ORDER BY l.id LIMIT 1")).one()
        case = s.scalar(text("SELECT id FROM aftersales_case ORDER BY id LIMIT 1"))
        order = s.scalar(text("SELECT out_trade_no FROM payment_order WHERE application_id = :a ORDER BY id LIMIT 1"),
                         {"a": row[1]})
        user = s.get(User, int(row[0]))
        assert user is not None
        token = start_session(s, user)
    ids = {"application_id": str(row[1]), "loan_id": str(row[2]), "code": row[3], "product": row[4],
           "term": str(row[5])}
    if case is not None:
        ids["case_id"] = str(case)
    if order is not None:
        ids["out_trade_no"] = str(order)
    return token, ids


def shopper_pages(ids: dict[str, str]) -> tuple[list[str], list[str]]:
    """(URLs to walk, route paths left out for want of a record) from the app's own routes."""
    from fastapi.routing import iter_route_contexts

    from fenqi.api import create_app

    urls, left_out = [], []
    for route in iter_route_contexts(create_app().routes):
        path = str(getattr(route, "path_format", None) or getattr(route, "path", ""))
        if "GET" not in (getattr(route, "methods", None) or ()) or not SHOPPER.match(path) or NOT_PAGES.search(path):
            continue
        url = path + QUERIES.get(path, "")
        names = re.findall(r"\{([^}]+)\}", url)
        if all(name in ids for name in names):
            urls.append(re.sub(r"\{([^}]+)\}", lambda m: ids[m.group(1)], url))
        else:
            left_out.append(path)
    return urls, left_out


def _time(client: httpx.Client, url: str, repeat: int) -> tuple[int, list[float]]:
    status = 0
    for _ in range(3):
        status = client.get(url).status_code
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url)
        samples.append(time.perf_counter() - started)
    return status, samples


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench shopper-pages")
    parser.add_argument("--database", help="an existing demo database (SQLite file) instead of a new one")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    directory = tempfile.mkdtemp(prefix="fenqi-bench-shop-")
    database = Path(args.database).resolve() if args.database else build_demo(directory)
    os.environ["FENQI_DATABASE_URL"] = f"sqlite:///{database}"
    token, ids = demo_shopper()
    urls, left_out = shopper_pages(ids)
    port = free_port()
    server = start_server(port, database, directory)
    try:
        _walk(f"http://127.0.0.1:{port}", token, urls, args.repeat)
    finally:
        server.terminate()
        server.wait(timeout=10)
    if left_out:
        print(f"left out (no such record in the demo): {', '.join(left_out)}")


def _walk(base: str, token: str, urls: list[str], repeat: int) -> None:
    from fenqi.identity.sessions import SESSION_COOKIE

    with httpx.Client(base_url=base, cookies={SESSION_COOKIE: token}, follow_redirects=False, timeout=30) as client:
        _, base_samples = _time(client, "/healthz", repeat)
        base_p50 = percentile(base_samples, 50)
        print(f"baseline GET /healthz: p50 {base_p50 * 1e3:.1f} ms, p99 {percentile(base_samples, 99) * 1e3:.1f} ms")
        worst: list[Any] = []
        for url in urls:
            status, samples = _time(client, url, repeat)
            p50, p99 = percentile(samples, 50) * 1e3, percentile(samples, 99) * 1e3
            worst.append((p99, url))
            met = "met" if p99 <= GOAL_MS else "NOT met"
            print(f"RESULT {url} ({status}): p50 {p50:.1f} ms, p99 {p99:.1f} ms, ratio to /healthz "
                  f"{p50 / 1e3 / max(base_p50, 1e-9):.1f}× (goal p99 ≤ {GOAL_MS:.0f} ms: {met})")
        slowest, where = max(worst)
        print(f"{len(urls)} pages; slowest p99 {slowest:.1f} ms ({where}): goal "
              f"{'met on every page' if slowest <= GOAL_MS else 'NOT met'}")
