"""Pricing: the full plan menu in process, and POST /api/v1/quotes over HTTP under a steady load.

Baseline, measured in the same run: the same 16 plans priced with binary floats by numpy-financial
(pmt for the payment, irr for the APR) — what a naive float implementation costs on this machine.
Options: --seconds N (HTTP load duration, default 10), --rate R (requests/s, default 200),
--concurrency C (connections, default 20).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal

import httpx
import numpy_financial as npf

from bench.machine import percentile, summary
from fenqi.pricing.menu import ProductSpec, plan_menu
from fenqi.pricing.schedule import Method

D = Decimal
TERMS = [3, 6, 12, 24]
PRODUCTS = [
    ProductSpec("EI", "等额本息", "EI", Method.EQUAL_INSTALLMENT, tuple(TERMS), annual_rate=D("0.12")),
    ProductSpec("EP", "等额本金", "EP", Method.EQUAL_PRINCIPAL, tuple(TERMS), annual_rate=D("0.10")),
    ProductSpec("FEE", "手续费", "FEE", Method.FLAT_FEE, tuple(TERMS), fee_rate=D("0.006")),
    ProductSpec("IF", "免息", "IF", Method.INTEREST_FREE, tuple(TERMS), funder_rate=D("0.08")),
]


def time_calls(fn: object, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
    return samples


def menu_decimal() -> None:
    menu = plan_menu(D("5999.00"), PRODUCTS, TERMS, date(2026, 1, 15), D("0.24"))
    assert len(menu) == 16


def menu_float_baseline() -> None:
    """16 plans with floats: payment by pmt, schedule by a loop, APR by irr (timing baseline only)."""
    financed = 5999.0
    for rate, fee in ((0.12, 0.0), (0.10, 0.0), (0.0, 0.006), (0.0, 0.0)):
        for n in TERMS:
            r = rate / 12
            payment = -npf.pmt(r, n, financed) if r else financed / n
            balance, flows = financed, [-financed]
            for _ in range(n):
                interest = balance * r
                principal = payment - interest
                balance -= principal
                flows.append(payment + financed * fee)
            npf.irr(flows)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, db_path: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FENQI_DATABASE_URL": f"sqlite:///{db_path}"}
    subprocess.run([sys.executable, "-m", "fenqi", "db", "upgrade"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "fenqi.api:create_app", "--factory", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        env=env,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def hey(url: str, rate: int, seconds: float, workers: int, body: str | None = None) -> dict[str, float]:
    """Load with `hey` (Debian package; a compiled client, so the load generator does not steal the
    server's CPU the way a Python client would): `workers` connections, each paced at rate/workers."""
    if shutil.which("hey") is None:
        sys.exit("the HTTP benchmark needs `hey` (apt-get install hey; scripts/system-deps installs it)")
    cmd = ["hey", "-z", f"{seconds}s", "-c", str(workers), "-q", str(max(1, rate // workers))]
    if body is not None:
        cmd += ["-m", "POST", "-T", "application/json", "-d", body]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct, secs in re.findall(r"(\d+)% in ([\d.]+) secs", out):
        figures[f"p{pct}"] = float(secs)
    codes = re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)
    if any(code != "200" for code, _ in codes):
        raise RuntimeError(f"non-200 responses: {codes}")
    return figures


def show(label: str, f: dict[str, float]) -> None:
    print(f"{label}: {f['rps']:.0f} req/s, p50 {f['p50'] * 1e3:.1f} ms, p99 {f['p99'] * 1e3:.1f} ms")


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench pricing")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args(argv)

    for fn in (menu_decimal, menu_float_baseline):
        time_calls(fn, 50)  # warm-up
    ours = time_calls(menu_decimal, 500)
    base = time_calls(menu_float_baseline, 500)
    print(summary("plan menu, 16 plans with APR (Decimal)", ours))
    print(summary("baseline: same 16 plans with floats (numpy-financial pmt + irr)", base))
    p50_ours, p50_base = percentile(ours, 50), percentile(base, 50)
    print(f"  menu p50 {p50_ours * 1e3:.3f} ms (goal ≤ 2 ms); ratio to the float baseline {p50_ours / p50_base:.2f}×")

    port = free_port()
    rate = int(args.rate)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(port, f"{tmp}/bench.db")
        try:
            body = json.dumps({"price": "5999", "down_payment": "1000", "term": 12, "method": "equal-installment",
                               "annual_rate": "0.12", "start": "2026-01-15"})
            url = f"http://127.0.0.1:{port}"
            hey(f"{url}/api/v1/quotes", 50, 1, 5, body)  # warm-up
            quotes = hey(f"{url}/api/v1/quotes", rate, args.seconds, args.concurrency, body)
            health = hey(f"{url}/healthz", rate, args.seconds, args.concurrency)
        finally:
            server.terminate()
            server.wait(10)
    show(f"POST /api/v1/quotes, steady {rate} req/s over {args.concurrency} connections", quotes)
    show("baseline: GET /healthz at the same load (the HTTP stack alone)", health)
    print(f"  quotes p99 {quotes['p99'] * 1e3:.1f} ms (goal ≤ 20 ms); ratio to the baseline's p99 "
          f"{quotes['p99'] / health['p99']:.2f}×")
