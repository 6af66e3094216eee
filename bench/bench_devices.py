"""Device check-ins on PostgreSQL: the device simulator against a real server.

A fresh schema in its own database; N phones provisioned on N loans (booked through servicing) and
enrolled; uvicorn with W workers; then the simulator (`fenqi.devices.simulate`, httpx, C concurrent
connections) makes R check-ins per phone — each authenticated by token + IMEI, its counter checked and
moved atomically, the lock policy applied, the answer signed with Ed25519 — and verifies every answer
(signature, IMEI, counter, nonce) as a phone would. Baseline in the same run: the same number of
`GET /healthz` from the same client at the same concurrency; ratio = healthz rate / check-in rate.

The client runs on the same machine as the server (and verifies each signature), so both share the
cores: on the 2-core machine the figures are a floor for what the server does with a separate client.

Options: --devices N (default 1000), --rounds R (5), --concurrency C (32), --workers W (2),
--port (8160), --database-url URL (default $FENQI_BENCH_DATABASE_URL or fenqi_bench_devices locally).
Goal: ≥ 1,000 check-ins/s with p99 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import httpx

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fenqi_bench_devices"


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FENQI_DATABASE_URL": url, "FENQI_ENV": "demo"}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - it lives as long as the server process
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "fenqi.api:create_app", "--factory", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log", "--timeout-worker-healthcheck",
         "60"], env=env, stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(900):
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


def server_cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the server's processes have used so far: the uvicorn parent and every
    worker under it (Linux /proc; None elsewhere). Tells what a request costs the server, apart from
    the client and the other work on a shared machine."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in open(f"/proc/{p}/task/{task}/children").read().split()]  # noqa: SIM115
        except (OSError, IndexError, ValueError):
            if p == pid:
                return None
    return total


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench devices")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8160)
    parser.add_argument("--database-url", default=os.environ.get("FENQI_BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args(argv)

    os.environ["FENQI_DATABASE_URL"] = args.database_url  # before any setting is read in this process
    from bench.bench_payments import prepare_database

    prepare_database(args.database_url)
    from fenqi.devices import simulate as sim
    from fenqi.kit.settings import get_settings

    get_settings.cache_clear()
    started = time.perf_counter()
    fleet = sim.provision(args.devices, prefix="bench")
    print(f"provisioned {len(fleet)} phones on loans in {time.perf_counter() - started:.1f} s")

    server = start_server(args.database_url, args.port, args.workers)
    base = f"http://127.0.0.1:{args.port}"
    try:
        sim.run(base, fleet[: min(len(fleet), 100)], rounds=1, concurrency=args.concurrency,
                start_counter=1)  # warm-up: connections, caches, the workers' imports
        cpu0 = server_cpu_seconds(server.pid)
        checkin = sim.run(base, fleet, rounds=args.rounds, concurrency=args.concurrency, start_counter=10,
                          replay=False).to_json()
        cpu1 = server_cpu_seconds(server.pid)
        health = sim.baseline(base, args.devices * args.rounds, args.concurrency).to_json()
        cpu2 = server_cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"check-ins ({args.devices} phones × {args.rounds}, {args.concurrency} connections, "
          f"{args.workers} workers): {checkin['per_second']:.0f}/s, p50 {checkin['p50_ms']:.1f} ms, "
          f"p99 {checkin['p99_ms']:.1f} ms; errors {checkin['errors']}, bad signatures {checkin['bad_signatures']}")
    print(f"baseline GET /healthz, same client and concurrency: {health['per_second']:.0f}/s, "
          f"p50 {health['p50_ms']:.1f} ms, p99 {health['p99_ms']:.1f} ms")
    if cpu0 is not None and cpu1 is not None and cpu2 is not None and checkin["checkins"] and health["checkins"]:
        per_checkin = (cpu1 - cpu0) / checkin["checkins"] * 1000
        per_health = (cpu2 - cpu1) / health["checkins"] * 1000
        print(f"server CPU (uvicorn workers, not PostgreSQL): {per_checkin:.2f} ms per check-in, "
              f"{per_health:.2f} ms per /healthz ({per_checkin / per_health:.2f}×); "
              f"{os.cpu_count()} cores' worth ≈ {(os.cpu_count() or 1) * 1000 / per_checkin:.0f} check-ins/s "
              "of server Python alone")
    ratio = health["per_second"] / checkin["per_second"] if checkin["per_second"] else float("inf")
    print(f"ratio healthz/check-in throughput: {ratio:.2f}×; goal ≥ 1000/s and p99 ≤ 50 ms: "
          f"{'met' if checkin['per_second'] >= 1000 and checkin['p99_ms'] <= 50 else 'not met'}")
