"""Dashboards: the operations dashboard's figures and page over a simulated book.

The book comes from servicing's portfolio simulation (`fenqi simulate`: loans booked and lived through
close-of-business with random shopper behaviour) in a temporary SQLite file. Measured: all six figures
(`dashboard_charts`: sales, approval rate, plan mix, outstanding per day from the ledger, buckets, funnel)
for 180 days, and GET /ops/dashboard through the ASGI app. Baseline in the same run: one grouped query
over the same loans (loans by status), the least a dashboard could cost.
Options: --loans N (default 1000), --days D (default 120), --repeat R (default 30).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable

from bench.machine import percentile, summary


def _time(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench dashboard")
    parser.add_argument("--loans", type=int, default=1000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    url = f"sqlite:///{tempfile.mkdtemp(prefix='fenqi-bench-dash-')}/bench.db"
    os.environ["FENQI_DATABASE_URL"] = url

    from sqlalchemy.orm import Session

    from fenqi.analytics import service as analytics
    from fenqi.demo.simulate import simulate
    from fenqi.kit.db import get_engine
    from fenqi.kit.migrate import upgrade
    from fenqi.web.console.dashboard import dashboard_charts

    upgrade(url)
    engine = get_engine()
    started = time.perf_counter()
    simulate(engine, loans=args.loans, days=args.days, seed=1)
    print(f"book: {args.loans} loans lived {args.days} days in {time.perf_counter() - started:.1f} s ({url})")
    with Session(engine) as session:
        figures = _time(lambda: dashboard_charts(session, "zh", 180), args.repeat)
        baseline = _time(lambda: analytics.loans_by_status(session), args.repeat)
    from fastapi.testclient import TestClient

    from fenqi.api import create_app
    from fenqi.identity.service import create_api_key, create_user

    with Session(engine) as session, session.begin():
        _, key = create_api_key(session, create_user(session, role="finance", display_name="bench"))
    with TestClient(create_app()) as client:
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/ops/dashboard?days=180", headers=headers).status_code == 200
        page = _time(lambda: client.get("/ops/dashboard?days=180", headers=headers), args.repeat)
    print(summary("six dashboard figures (180 days)", figures))
    print(summary("GET /ops/dashboard (ASGI, in process)", page))
    print(summary("baseline: loans by status (one GROUP BY)", baseline))
    ratio = percentile(figures, 50) / percentile(baseline, 50)
    print(f"ratio figures / baseline (p50): {ratio:.1f}x")
