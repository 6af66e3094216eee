"""Credit decisions end to end over HTTP on PostgreSQL: POST /api/v1/applications (KYC, consents, the
risk decision stored, funder routing) with a unique shopper per request, under `wrk` load.

Also measured in the same run: the decision alone over HTTP (POST /api/v1/risk/decisions), the engine
in process (rules + scorecard, no database), and the baseline — GET /healthz at the same concurrency
(the HTTP stack alone). Decisions stored are counted in the database afterwards, not inferred.

Options: --seconds N (per HTTP phase, default 10), --connections C (default 16), --rate R (pace the
decision phases at about R requests/s; default: closed loop, as fast as answered), --workers W (uvicorn
processes, default 2), --database-url URL (default postgresql+psycopg://postgres@127.0.0.1:5432/
fenqi_bench_decisions; its schema is dropped and rebuilt). Goals (issue 11): ≥ 300 decisions/s closed
loop; p99 ≤ 150 ms at a steady 200 req/s (`--rate 200`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.machine import percentile, summary

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fenqi_bench_decisions"
GOAL_RPS, GOAL_P99_MS, GOAL_RATE = 300, 150, 200
SEEDED = ("pricing", "catalog", "identity", "funding", "risk")

LUA = r"""
-- Each wrk thread walks its own slice of the prepared bodies, so no shopper applies twice.
local bodies, threads, counter = {}, {}, 0
function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end
function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  pause = tonumber(args[3])
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == id then table.insert(bodies, line) end
    i = i + 1
  end
  n = 0
end
function delay()
  return pause
end
function request()
  n = n + 1
  local body = bodies[((n - 1) % #bodies) + 1]
  return wrk.format("POST", nil, nil, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_database(url: str) -> dict[str, str]:
    """A fresh schema with the demo data, and API keys for a clerk and a risk officer."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = make_url(url).set(database="postgres")
    name = make_url(url).database
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    env = {**os.environ, "FENQI_DATABASE_URL": url, "FENQI_ENV": "demo"}
    subprocess.run([sys.executable, "-m", "fenqi", "db", "upgrade"], env=env, check=True, capture_output=True)
    # The demo data a sale needs (not the simulated loan history, which takes minutes to build).
    script = (
        "import importlib\n"
        "from sqlalchemy import select\n"
        "from fenqi.kit.db import session_scope\n"
        "from fenqi.identity.models import User\n"
        "from fenqi.identity.service import create_api_key\n"
        f"domains = {SEEDED!r}\n"
        "with session_scope() as s:\n"
        "    for d in domains:\n"
        "        importlib.import_module(f'fenqi.{d}.seed').seed(s)\n"
        "with session_scope() as s:\n"
        "    keys = {}\n"
        "    for role in ('clerk', 'risk_officer'):\n"
        "        user = s.scalar(select(User).where(User.role == role).order_by(User.id).limit(1))\n"
        "        keys[role] = create_api_key(s, user, name='bench')[1]\n"
        "    print(keys['clerk'], keys['risk_officer'])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
    clerk, officer = out.stdout.split()
    return {"clerk": clerk, "risk_officer": officer}


def _id_number(n: int) -> str:
    """A valid, unique resident ID number: (birth date, sequence) is a one-to-one function of n, with
    birth dates spread over 1968–2000 (ages about 26 to 58)."""
    from stdnum.cn import ric

    born = date(1968, 1, 1) + timedelta(days=(n % 997) * 12)
    base = f"110105{born:%Y%m%d}{n // 997:03d}"
    return base + ric.calc_check_digit(base + "0")  # it ignores the last character


def _card(n: int) -> str:
    from stdnum import luhn

    base = f"622202{n:012d}"
    return base + luhn.calc_check_digit(base)


def application_bodies(count: int, store: str, sku: str, seed: int = 7) -> list[str]:
    """Unique shoppers (ID number, phone, card) with varied profiles, so outcomes are mixed."""
    rng = random.Random(seed)
    bodies = []
    for n in range(count):
        profile = {
            "employment": rng.choice(["employed", "employed", "self_employed", "civil_servant"]),
            "employment_years": rng.randrange(0, 12), "monthly_income": f"{rng.randrange(4000, 25000)}.00",
            "housing": rng.choice(["own", "rent", "family", "mortgage"]),
            "bank_account": rng.choice(["none", "overdrawn", "low_balance", "salary"]),
            "savings": rng.choice(["none", "lt_5k", "5k_20k", "20k_50k"]),
            "assets": rng.choice(["none", "car", "insurance", "real_estate"]),
            "existing_loans": rng.choice([0, 0, 0, 1]),
        }
        bodies.append(json.dumps({
            "store": store, "sku": sku, "product": "EI-12", "term": rng.choice([3, 6, 12]),
            "name": "测试用户", "id_number": _id_number(n), "phone": f"139{n:08d}", "bank_card": _card(n),
            "profile": profile,
            "consents": [{"kind": "credit_inquiry", "version": "credit-inquiry-2026.1"},
                         {"kind": "personal_info", "version": "personal-info-2026.1"}],
        }, ensure_ascii=False))
    assert len({json.loads(b)["id_number"] for b in bodies}) == count, "duplicate ID numbers"
    return bodies


def risk_bodies(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [json.dumps({
        "age": rng.randrange(20, 58), "employment": "employed", "employment_years": rng.randrange(0, 12),
        "monthly_income": f"{rng.randrange(4000, 25000)}.00", "housing": rng.choice(["own", "rent"]),
        "bank_account": rng.choice(["none", "low_balance", "salary"]), "savings": "lt_5k", "assets": "car",
        "financed": "4999.00", "installment": "444.17", "term": 12, "product_code": "EI-12",
        "id_hash": f"bench-id-{n:08d}", "phone_hash": f"bench-phone-{n:08d}",
    }) for n in range(count)]


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FENQI_DATABASE_URL": url, "FENQI_ENV": "demo"}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - it lives as long as the server process
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "fenqi.api:create_app", "--factory", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL, stderr=log,
    )
    for _ in range(600):
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    log.seek(0)
    raise RuntimeError("server did not start:\n" + log.read().decode(errors="replace")[-2000:])


def _seconds(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def wrk(url: str, seconds: float, connections: int, headers: dict[str, str],
        bodies: Path | None = None, rate: float = 0) -> dict[str, float]:
    """Load from `connections` connections over 2 threads. With a rate, each connection pauses
    connections/rate seconds after every answer (a steady load of about `rate` requests a second
    while the server keeps up); without one, each sends again as soon as it is answered."""
    threads = min(2, connections)
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--latency",
           "--timeout", "10s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    with tempfile.TemporaryDirectory() as tmp:
        if bodies is not None:
            script = Path(tmp) / "bodies.lua"
            script.write_text(LUA, encoding="utf-8")
            pause_ms = round(connections / rate * 1000) if rate else 0
            cmd += ["-s", str(script), url, "--", str(bodies), str(threads), str(pause_ms)]
        else:
            cmd.append(url)
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    figures["requests"] = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M):
        figures[f"p{pct}"] = _seconds(value, unit)
    errors = re.search(r"Socket errors: (.*)", out)
    figures["socket_errors"] = 0.0 if errors is None else float(sum(int(x) for x in re.findall(r"\d+", errors[1])))
    return figures


def count_rows(url: str, sql: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = {str(k): int(v) for k, v in conn.execute(text(sql))}
    engine.dispose()
    return rows


def engine_in_process(repeat: int) -> list[float]:
    from fenqi.risk.bureau import EmulatedBureau
    from fenqi.risk.engine import evaluate
    from fenqi.risk.rules import DEFAULT_POLICY, Facts
    from fenqi.risk.schemas import input_from_json
    from fenqi.risk.scorecard import load

    card, bureau = load(), EmulatedBureau()
    inputs = [input_from_json(json.loads(b)) for b in risk_bodies(repeat)]
    facts = [Facts(bureau=bureau.report(i.id_hash)) for i in inputs]
    samples = []
    for inp, fact in zip(inputs, facts, strict=True):
        start = time.perf_counter()
        evaluate(inp, fact, DEFAULT_POLICY, card)
        samples.append(time.perf_counter() - start)
    return samples


def show(label: str, f: dict[str, float]) -> None:
    print(f"{label}: {f['rps']:.0f} req/s, p50 {f['p50'] * 1e3:.1f} ms, p99 {f['p99'] * 1e3:.1f} ms "
          f"({f['requests']:.0f} requests)")


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench decisions")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="steady load in requests/s for the decision phases (default: as fast as answered)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: any free one)")
    parser.add_argument("--database-url", default=os.environ.get("FENQI_BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("the decisions benchmark needs `wrk` (apt-get install wrk; scripts/system-deps installs it)")
    if not args.database_url.startswith("postgresql"):
        sys.exit("the decisions benchmark runs on PostgreSQL (--database-url postgresql+psycopg://...)")

    load_before = os.getloadavg()[0]
    samples = engine_in_process(2000)
    print(summary("engine in process (rules + scorecard + reasons, no database)", samples[200:]))

    keys = prepare_database(args.database_url)
    # Enough unique shoppers for a fast run: wrapping around would re-apply with an open application.
    count = int(args.seconds * 600) + 1000
    with tempfile.TemporaryDirectory() as tmp:
        apps, risk = Path(tmp) / "apps.jsonl", Path(tmp) / "risk.jsonl"
        apps.write_text("\n".join(application_bodies(count, "S-SH-XJH", _first_sku(args.database_url))) + "\n",
                        encoding="utf-8")
        risk.write_text("\n".join(risk_bodies(count)) + "\n", encoding="utf-8")
        port = args.port or free_port()
        server = start_server(args.database_url, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        json_headers = {"Content-Type": "application/json"}
        try:
            health = wrk(f"{base}/healthz", args.seconds, args.connections, {})
            alone = wrk(f"{base}/api/v1/risk/decisions", args.seconds, args.connections,
                        {**json_headers, "Authorization": f"Bearer {keys['risk_officer']}"}, risk, args.rate)
            end_to_end = wrk(f"{base}/api/v1/applications", args.seconds, args.connections,
                             {**json_headers, "Authorization": f"Bearer {keys['clerk']}"}, apps, args.rate)
        finally:
            server.terminate()
            server.wait(20)
    decisions = count_rows(args.database_url, "SELECT outcome, count(*) FROM risk_decision GROUP BY outcome")
    statuses = count_rows(args.database_url, "SELECT status, count(*) FROM application GROUP BY status")
    from_apps = sum(statuses.values())

    pacing = f"paced at {args.rate:.0f} req/s" if args.rate else "closed loop"
    print(f"machine-local PostgreSQL, uvicorn × {args.workers}, wrk {args.connections} connections ({pacing}), "
          f"{args.seconds:.0f} s per phase; load average before {load_before:.1f}, after {os.getloadavg()[0]:.1f} "
          "(other work on the machine competes for the same cores)")
    show("baseline: GET /healthz (the HTTP stack alone)", health)
    show("decision alone: POST /api/v1/risk/decisions (facts, rules, score, stored)", alone)
    show("end to end: POST /api/v1/applications (KYC, consents, decision stored, routing)", end_to_end)
    print(f"  applications stored {from_apps} of {end_to_end['requests']:.0f} requests: {statuses}")
    print(f"  decisions stored (both phases): {decisions}")
    if args.rate:  # open loop: the latency goal at a steady rate
        ok = args.rate >= GOAL_RATE and end_to_end["rps"] >= 0.95 * args.rate and end_to_end["p99"] * 1e3 <= GOAL_P99_MS
        goal = f"goal p99 ≤ {GOAL_P99_MS} ms at a steady {GOAL_RATE}/s"
    else:
        ok = end_to_end["rps"] >= GOAL_RPS
        goal = f"goal ≥ {GOAL_RPS}/s"
    print(f"  end to end {end_to_end['rps']:.0f} decisions/s, p99 {end_to_end['p99'] * 1e3:.1f} ms ({goal}): "
          f"{'met' if ok else 'NOT met'}")
    print(f"  ratio to the baseline: throughput {end_to_end['rps'] / health['rps']:.2f}×, "
          f"p99 {end_to_end['p99'] / health['p99']:.1f}×; engine p50 {percentile(samples, 50) * 1e6:.0f} µs")


def _first_sku(url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        code: Any = conn.execute(text("SELECT code FROM sku ORDER BY price_fen LIMIT 1")).scalar()
    engine.dispose()
    return str(code)
