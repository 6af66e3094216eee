"""The shopper's offer page (`GET /shop/applications/{id}/offer`) through the ASGI app, in process.

A temporary SQLite file (or `--database-url`, e.g. an empty PostgreSQL database) with the tests' small shop
(tests/origination/world.py); N shoppers sign in, apply through `/shop/apply` and are approved. Measured per
shopper: the first view, which draws up the e-contract (PDF, hash, stored) for the page's pictures, then
`--repeat` views of the same page. Baseline in the same run: `GET /healthz` through the same client.
The fonts are parsed once before measuring, as a serving process has done after its first contract.
Options: --shoppers N (default 4), --repeat R (default 10), --database-url URL (an empty database: the
shop and shoppers are created under fixed names). Goal: ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.machine import percentile


def _line(label: str, samples: list[float], base: list[float]) -> None:
    p50 = percentile(samples, 50)
    print(f"RESULT {label}: p50 {p50 * 1e3:.1f} ms, p99 {percentile(samples, 99) * 1e3:.1f} ms, "
          f"max {max(samples) * 1e3:.1f} ms (goal ≤ 300 ms: {'met' if p50 <= 0.3 else 'NOT met'}); "
          f"baseline GET /healthz p50 {percentile(base, 50) * 1e3:.1f} ms, ratio {p50 / percentile(base, 50):.1f}×")


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench offer")
    parser.add_argument("--shoppers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='fenqi-bench-offer-')}/bench.db"
    os.environ["FENQI_DATABASE_URL"] = url
    os.environ.setdefault("FENQI_ENV", "test")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' shop and form

    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

    from fenqi.api import create_app
    from fenqi.identity.service import create_user
    from fenqi.identity.sessions import SESSION_COOKIE, start_session
    from fenqi.kit.db import get_engine
    from fenqi.kit.migrate import upgrade
    from fenqi.origination.contract_pdf import render_contract, specimen_terms
    from tests.origination.world import build_world, clean_id_number
    from tests.web_shopper.test_shopper_pages import submit

    upgrade(url)
    app = create_app()
    with Session(get_engine(), expire_on_commit=False) as session:
        world = build_world(session, suffix="B")
        session.commit()
    render_contract(specimen_terms())
    first: list[float] = []
    again: list[float] = []
    base: list[float] = []
    with TestClient(app) as client:
        for n in range(args.shoppers):
            with Session(get_engine(), expire_on_commit=False) as session:
                user = create_user(session, role="shopper", display_name="压测顾客", phone=f"1370013{n:04d}")
                client.cookies.set(SESSION_COOKIE, start_session(session, user))
                session.commit()
            done = submit(client, world, id_number=clean_id_number(date(1990, 1, 1) + timedelta(days=n)),
                          phone=f"1381234{n:04d}", store=world.store)
            if done.status_code != 303:
                sys.exit(f"the application was not accepted: {done.status_code} {done.text[:300]}")
            path = done.headers["location"] + "/offer"
            for samples, count in ((first, 1), (again, args.repeat)):
                for _ in range(count):
                    start = time.perf_counter()
                    page = client.get(path)
                    samples.append(time.perf_counter() - start)
                    if page.status_code != 200:
                        sys.exit(f"{path}: {page.status_code} {page.text[:300]}")
            for _ in range(args.repeat):
                start = time.perf_counter()
                client.get("/healthz")
                base.append(time.perf_counter() - start)
    print(f"{args.shoppers} shoppers, {args.repeat} repeat views each, on {url.split(':')[0]}")
    _line("offer page, first view (e-contract drawn up)", first, base)
    _line("offer page, again", again, base)
