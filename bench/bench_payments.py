"""Payments on PostgreSQL: notifications processed end to end, and reconciliation of a big statement.

1. Callbacks: N signed Alipay notifications for N open down-payment orders, each verified (RSA2,
   through python-alipay-sdk), inboxed (INSERT ... ON CONFLICT DO NOTHING), the order settled and
   the journal entry posted, one transaction each, in P processes × T threads. Printed: callbacks/s and
   p50/p99 latency. Baseline in the same run: the same number of transactions that only insert an
   inbox row (what the database itself needs per callback); ratio = baseline throughput / ours.
2. Reconciliation: a WeChat Pay trade bill of L lines (its real format) for L orders paid that day,
   loaded with COPY; timed: parse the bill, load our side, match. Baseline: reading the same bill's
   lines and selecting the same orders without any matching; ratio = ours / baseline.

Options: --callbacks N (default 2000), --processes P (CPU count: like web workers), --threads T (4 per
process), --lines L (1000000), --database-url URL
(default $FENQI_BENCH_DATABASE_URL or a fenqi_bench_payments database on the local PostgreSQL).
Goals on the 2-core machine (issue 11): ≥ 800 callbacks/s with p99 ≤ 50 ms; 1M lines in ≤ 15 s.
"""

from __future__ import annotations

import argparse
import io
import os
import queue
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from bench.machine import percentile

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fenqi_bench_payments"
DAY = date(2026, 11, 27)


def prepare_database(url: str) -> None:
    """A fresh schema at head in the bench's own database (created if missing)."""
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    from fenqi.kit.migrate import upgrade

    upgrade(url)


def copy_orders(url: str, numbers: list[str], amounts: list[int], *, paid: bool, channel: str) -> None:
    """Bulk-load orders with COPY (minutes of ORM inserts otherwise)."""
    import psycopg

    now = datetime.now(UTC)
    paid_at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=4)  # 12:00 China time
    buf = io.StringIO()
    for no, amount in zip(numbers, amounts, strict=True):
        fields = [no, channel, "down_payment", str(amount), "bench", "paid" if paid else "pending", "1", "", "",
                  DAY.isoformat(), (now + timedelta(hours=1)).isoformat(),
                  paid_at.isoformat() if paid else "\\N", str(amount) if paid else "\\N", "0",
                  f"payment:{no}" if paid else "", "", "0", "0", now.isoformat(), now.isoformat()]
        buf.write("\t".join(fields) + "\n")
    columns = ("out_trade_no, channel, purpose, amount_fen, subject, status, attempt, pay_url, trade_no, "
               "business_date, expires_at, paid_at, paid_amount_fen, refunded_fen, settlement_key, failure_reason, "
               "hb_fq_seller_percent, hb_fee_fen, updated_at, created_at")
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY payment_order ({columns}) FROM STDIN") as copy:
            copy.write(buf.getvalue())
        conn.commit()


def signed_notifications(numbers: list[str], amounts: list[int]) -> list[bytes]:
    """Form bodies exactly as the Alipay emulator signs them."""
    from fenqi.payments.emulators import signing
    from fenqi.payments.keys import channel_keys
    from fenqi.payments.settings import get_payment_settings

    key = signing.load_private(channel_keys().alipay_platform.private_pem)
    app_id = get_payment_settings().alipay_app_id
    bodies = []
    for i, (no, amount) in enumerate(zip(numbers, amounts, strict=True)):
        params = {"notify_type": "trade_status_sync", "notify_id": f"n{i}", "app_id": app_id, "charset": "utf-8",
                  "version": "1.0", "trade_no": f"2026112722{i:014d}", "out_trade_no": no,
                  "trade_status": "TRADE_SUCCESS", "total_amount": f"{amount // 100}.{amount % 100:02d}",
                  "gmt_payment": "2026-11-27 12:00:00", "notify_time": "2026-11-27 12:00:01"}
        params["sign"] = signing.sign(key, signing.alipay_sign_content(params, exclude=()))
        params["sign_type"] = "RSA2"
        bodies.append(urllib.parse.urlencode(params).encode())
    return bodies


def run_workers(jobs: list[bytes], workers: int, handle: object) -> tuple[float, list[float]]:
    q: queue.Queue[bytes] = queue.Queue()
    for job in jobs:
        q.put(job)
    latencies: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        mine = []
        while True:
            try:
                job = q.get_nowait()
            except queue.Empty:
                break
            t0 = time.perf_counter()
            handle(job)  # type: ignore[operator]
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    start = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies


def _warm_worker() -> None:
    """Process start-up (imports, keys, the database pool) happens before the clock starts."""
    import logging

    import structlog
    from sqlalchemy import text

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    from fenqi.kit.db import get_engine
    from fenqi.payments.channels import get_channel
    from fenqi.payments.inbox import process  # noqa: F401
    from fenqi.wiring import install

    install()  # as every entry point does: a settled order reaches its domain's handler
    get_channel("alipay")
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


def _ready(_: int) -> bool:
    return True


def _callback_worker(args: tuple[list[bytes], int]) -> list[float]:
    """One web-worker-like process: verify and process its share of notifications on a few threads."""
    from fenqi.kit.db import session_scope
    from fenqi.payments.channels import get_channel
    from fenqi.payments.inbox import process

    bodies, threads = args
    adapter = get_channel("alipay")
    headers = {"content-type": "application/x-www-form-urlencoded"}

    def handle(body: bytes) -> None:
        with session_scope() as session:
            n = adapter.verify_notification(headers, body)
            assert process(session, "alipay", n) == "processed"

    return run_workers(bodies, threads, handle)[1]


def bench_callbacks(url: str, count: int, processes: int, threads: int) -> None:
    import multiprocessing

    from sqlalchemy import func, select, text

    from fenqi.kit.db import get_engine, session_scope
    from fenqi.payments.models import PaymentOrder

    numbers = [f"FQB{i:012d}" for i in range(count)]
    amounts = [10_000 + i % 90_000 for i in range(count)]
    copy_orders(url, numbers, amounts, paid=False, channel="alipay")
    bodies = signed_notifications(numbers, amounts)
    shares = [(bodies[i::processes], threads) for i in range(processes)]
    # Separate processes, as production runs several web workers: one Python process is bound by its GIL.
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_warm_worker) as pool:
        assert all(pool.map(_ready, range(processes * 4)))
        start = time.perf_counter()
        latencies = [x for part in pool.map(_callback_worker, shares) for x in part]
        elapsed = time.perf_counter() - start
    with session_scope() as session:
        paid = session.scalar(select(func.count()).select_from(PaymentOrder).where(PaymentOrder.status == "paid"))
        assert paid == count, f"{paid} of {count} orders paid"
    ours = count / elapsed
    print(f"callbacks end to end ({processes} processes × {threads} threads): {ours:,.0f} callbacks/s, "
          f"p50 {percentile(latencies, 50) * 1e3:.1f} ms, p99 {percentile(latencies, 99) * 1e3:.1f} ms (n={count})")

    engine = get_engine()

    def baseline(body: bytes) -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO payment_callback_inbox (channel, event_id, kind, source, out_trade_no, "
                              "amount_fen, payload, status, note, received_at) VALUES ('bench', :e, 'payment', "
                              "'callback', 'x', 1, '{}', 'processed', '', now()) ON CONFLICT DO NOTHING"),
                         {"e": body[-40:].decode(errors="replace")})

    base_elapsed, base_lat = run_workers(bodies, processes * threads, baseline)
    base = count / base_elapsed
    print(f"baseline (one bare inbox INSERT per transaction, {processes * threads} threads): {base:,.0f} tx/s, "
          f"p99 {percentile(base_lat, 99) * 1e3:.2f} ms")
    met = ours >= 800 and percentile(latencies, 99) <= 0.050
    print(f"ratio baseline/ours: {base / ours:.1f}x   goal ≥ 800 callbacks/s, p99 ≤ 50 ms: "
          f"{'met' if met else 'NOT met'}")


def bench_reconcile(url: str, lines: int) -> None:
    from sqlalchemy import select

    from fenqi.kit.db import session_scope
    from fenqi.payments.emulators.core import CST
    from fenqi.payments.emulators.statements import StatementLine, wechat_trade_bill
    from fenqi.payments.models import PaymentOrder
    from fenqi.payments.reconcile import day_bounds, our_payments, reconcile_entries
    from fenqi.payments.statement_parsers import bulk, parse_wechat

    numbers = [f"FQR{i:012d}" for i in range(lines)]
    amounts = [10_000 + (i * 7919) % 900_000 for i in range(lines)]
    t0 = time.perf_counter()
    copy_orders(url, numbers, amounts, paid=True, channel="wechatpay")
    at = datetime.combine(DAY, datetime.min.time(), CST).replace(hour=12)
    bill = wechat_trade_bill((StatementLine("pay", f"42{i:018d}", no, amount, at, at, "bench")
                              for i, (no, amount) in enumerate(zip(numbers, amounts, strict=True))),
                             appid="wx", mchid="1900000001").encode()
    print(f"set-up: {lines:,} orders by COPY and a {len(bill) / 1e6:.0f} MB bill in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    with session_scope() as session, bulk(), ThreadPoolExecutor(1) as pool:
        # As `reconcile` does it: our side is read while the bill is parsed.
        our_side = pool.submit(our_payments, session, "wechatpay", DAY)
        entries = parse_wechat(bill)
        parsed = time.perf_counter() - t0
        report = reconcile_entries(session, "wechatpay", DAY, entries, our_side.result())
    ours = time.perf_counter() - t0
    assert report.matched == lines and not report.findings, report.counts()

    t0 = time.perf_counter()
    start, end = day_bounds(DAY)
    with session_scope() as session:
        raw = bill.decode().splitlines()
        rows = session.execute(select(PaymentOrder.out_trade_no, PaymentOrder.paid_amount_fen).where(
            PaymentOrder.channel == "wechatpay", PaymentOrder.paid_at >= start, PaymentOrder.paid_at < end)).all()
    base = time.perf_counter() - t0
    assert len(rows) == lines and len(raw) == lines + 3
    print(f"reconcile {lines:,} lines: {ours:.2f} s (parse {parsed:.2f} s), {lines / ours:,.0f} lines/s, "
          f"all matched")
    print(f"baseline (split the bill's lines + select the day's orders): {base:.2f} s; ratio ours/baseline "
          f"{ours / base:.1f}x   goal ≤ 15 s for 1M: {'met' if ours * 1_000_000 / lines <= 15 else 'NOT met'}")


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench payments")
    parser.add_argument("--callbacks", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4, help="threads per process")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("callbacks", "reconcile"), help="run one part")
    parser.add_argument("--database-url", default=os.environ.get("FENQI_BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args(argv)
    os.environ["FENQI_DATABASE_URL"] = args.database_url
    os.environ.setdefault("FENQI_PAYMENT_KEYS_DIR", tempfile.mkdtemp(prefix="fenqi-bench-keys-"))
    os.environ.setdefault("FENQI_LOG_JSON", "false")
    import logging

    import structlog

    # The per-callback info logs would measure the terminal, not the payments code.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print(f"database: {args.database_url}")
    prepare_database(args.database_url)
    if args.only != "reconcile":
        bench_callbacks(args.database_url, args.callbacks, args.processes, args.threads)
    if args.only != "callbacks":
        bench_reconcile(args.database_url, args.lines)
