"""Close-of-business on PostgreSQL for a large book, and the portfolio simulation's speed.

1. A book of N open loans (default 1,000,000) is generated with COPY (psycopg): loans of every product
   and term at every age, 8% of them 1-3 installments behind, with their installments and an opening
   journal entry carrying each loan's balances, so the books reconcile before the first close.
2. For each of D business days (default 2): the baseline — one plain `UPDATE loan SET ... WHERE id
   BETWEEN` over the same open-loan rows, rolled back — then a real close-of-business of the day.
3. Prints seconds per business day, loans per second, peak memory of this process, the baseline and
   the ratio (the close runs on W `fenqi worker` processes sharing one chunk job each; W = 0 runs it in
   this process); then `ledger check` over a sample of loans; then `simulate` (loans·days per second).

Options: --loans N, --days D, --workers W (default 2), --chunk-size C, --database-url URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/fenqi_bench_cob, created if missing), --reuse (keep an
already generated book), --sim-loans, --sim-days (simulation size, default 300 × 120; 0 to skip).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.cob_kill import close_with_a_kill, copy_database, digest, drop_database
from bench.cob_netns import netns_link
from fenqi.kit.money import to_fen
from fenqi.kit.settings import get_settings
from fenqi.pricing.apr import apr as compute_apr
from fenqi.pricing.dates import add_months
from fenqi.pricing.schedule import Method, build_schedule
from fenqi.servicing.cob_runs import RunReport
from fenqi.servicing.rules import accrual_target, bucket_for, budget_increment_nfen, cap_headroom_ppb, rate_ppb

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fenqi_bench_cob"
TODAY = date(2027, 1, 1)  # the business date of the generated book: closed through 31 Dec 2026


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def ensure_database(url: str) -> None:
    base, name = _plain(url).rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def fresh_schema(url: str) -> None:
    from fenqi.kit.migrate import upgrade

    with psycopg.connect(_plain(url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    upgrade(url)


class Template:
    """A product × term × amount, priced once: loans built from it differ by start date and state."""

    def __init__(
        self,
        product_id: int,
        code: str,
        method: str,
        term: int,
        financed: int,
        rate: Decimal,
        fee_rate: Decimal,
        penalty: Decimal,
        grace: int,
        cap: Decimal,
    ) -> None:
        rows = build_schedule(Method(method), Decimal(financed) / 100, term, TODAY, rate, fee_rate)
        self.product_id, self.code, self.method, self.term, self.financed = product_id, code, method, term, financed
        self.rate, self.fee_rate, self.grace = rate, fee_rate, grace
        self.rows = [(to_fen(r.principal), to_fen(r.interest), to_fen(r.fee)) for r in rows]
        plan_apr = compute_apr(Decimal(financed) / 100, [r.total for r in rows], rate / 12 if rate else None)
        self.apr = plan_apr.quantize(Decimal("1e-10"))
        self.headroom = cap_headroom_ppb(cap, plan_apr)
        self.penalty_ppb = rate_ppb(penalty)


def templates(session: Session) -> list[Template]:
    cap = get_settings().apr_cap
    products = session.execute(
        text(
            "SELECT id, code, method, terms, annual_rate, fee_rate, penalty_daily_rate, grace_days FROM product "
            "ORDER BY code"
        )
    ).all()
    out = []
    for pid, code, method, terms, rate, fee_rate, penalty, grace in products:
        terms = terms if isinstance(terms, list) else __import__("json").loads(terms)
        for term in terms:
            for financed in (150_000, 299_900, 459_900, 599_900, 799_900):
                out.append(
                    Template(
                        pid,
                        code,
                        method,
                        term,
                        financed,
                        Decimal(rate),
                        Decimal(fee_rate),
                        Decimal(penalty),
                        grace,
                        cap,
                    )
                )
    return out


LOAN_COLUMNS = (
    "id",
    "external_ref",
    "product_id",
    "method",
    "financed_fen",
    "price_fen",
    "down_payment_fen",
    "term",
    "annual_rate",
    "fee_rate",
    "apr",
    "start_date",
    "booked_on",
    "status",
    "principal_outstanding_fen",
    "interest_accrued_fen",
    "interest_receivable_fen",
    "fee_accrued_fen",
    "fee_receivable_fen",
    "penalty_receivable_fen",
    "credit_balance_fen",
    "dpd",
    "bucket",
    "oldest_unpaid_due",
    "penalty_charged_fen",
    "cap_budget_nfen",
    "written_off_fen",
    "cob_date",
    "cur_period",
    "cur_period_start",
    "cur_due_date",
    "cur_interest_fen",
    "cur_fee_fen",
    "grace_days",
    "penalty_rate_ppb",
    "late_fee_fen",
    "cap_headroom_ppb",
    "created_at",
)
INST_COLUMNS = (
    "loan_id",
    "period",
    "due_date",
    "principal_fen",
    "interest_fen",
    "fee_fen",
    "paid_principal_fen",
    "paid_interest_fen",
    "paid_fee_fen",
    "status",
    "late_fee_charged",
    "paid_on",
)


def generate(url: str, n: int, seed: int = 7) -> None:
    """N open loans, their installments and an opening entry, with COPY; the business date is TODAY."""
    from fenqi.kit.db import make_engine
    from fenqi.pricing.service import seed_products

    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        seed_products(session)
        session.execute(text("DELETE FROM business_date"))
        session.execute(text("INSERT INTO business_date (id, current) VALUES (1, :d)"), {"d": TODAY})
        tpls = templates(session)
    engine.dispose()
    rng = random.Random(seed)
    closed = TODAY - timedelta(days=1)
    buckets = get_settings().delinquency_buckets
    now = time.strftime("%Y-%m-%d %H:%M:%S+00")
    opening: dict[str, list[tuple[int, int]]] = {
        a: []
        for a in ("principal_receivable", "interest_accrued", "interest_receivable", "fee_accrued", "fee_receivable")
    }
    t0 = time.perf_counter()
    # Pass 1: each loan's shape (template, start, periods past, periods behind), kept small.
    shapes: list[tuple[int, date, int, int]] = []
    for loan_id in range(1, n + 1):
        ti = loan_id % len(tpls)
        t = tpls[ti]
        start = closed - timedelta(days=rng.randint(0, min(t.term * 30 - 3, 400)))
        past = sum(1 for k in range(1, t.term + 1) if add_months(start, k) <= closed)
        if past >= t.term:  # would be paid off by now: make it a young loan instead
            start, past = closed - timedelta(days=5), 0
        behind = min(past, rng.randint(1, 3)) if rng.random() < 0.08 else 0
        shapes.append((ti, start, past, behind))
    with psycopg.connect(_plain(url)) as conn:
        # The generated rows are consistent by construction: skip the per-row foreign-key checks (the
        # installments' lookup of their loan took half the generation time). Needs a superuser.
        conn.execute("SET session_replication_role = replica")
        with conn.cursor() as cur:
            # Pass 2: the loans (one COPY at a time on a connection).
            with cur.copy(f"COPY loan ({', '.join(LOAN_COLUMNS)}) FROM STDIN") as lcopy:
                for loan_id, (ti, start, past, behind) in enumerate(shapes, start=1):
                    t = tpls[ti]
                    dues = [add_months(start, k) for k in range(1, t.term + 1)]
                    principal = sum(p for p, _, _ in t.rows[past - behind :])
                    interest_rec = sum(i for _, i, _ in t.rows[past - behind : past])
                    fee_rec = sum(f for _, _, f in t.rows[past - behind : past])
                    oldest = dues[past - behind] if behind else None
                    cur_start = dues[past - 1] if past else start
                    cur_due = dues[past]
                    n_days = (cur_due - cur_start).days
                    _, ci, cf = t.rows[past]
                    accrued_i = accrual_target(ci, (closed - cur_start).days, n_days)
                    accrued_f = accrual_target(cf, (closed - cur_start).days, n_days)
                    dpd = (closed - oldest).days if oldest else 0
                    budget = budget_increment_nfen(principal, t.headroom) * (closed - start).days
                    lcopy.write_row(
                        (
                            loan_id,
                            f"bench-{loan_id}",
                            t.product_id,
                            t.method,
                            t.financed,
                            t.financed,
                            0,
                            t.term,
                            str(t.rate),
                            str(t.fee_rate),
                            str(t.apr),
                            start,
                            start,
                            "overdue" if dpd > 0 else "active",
                            principal,
                            accrued_i,
                            interest_rec,
                            accrued_f,
                            fee_rec,
                            0,
                            0,
                            dpd,
                            bucket_for(dpd, buckets),
                            oldest,
                            0,
                            budget,
                            0,
                            closed,
                            past + 1,
                            cur_start,
                            cur_due,
                            ci,
                            cf,
                            t.grace,
                            t.penalty_ppb,
                            0,
                            t.headroom,
                            now,
                        )
                    )
                    for account, fen in (
                        ("principal_receivable", principal),
                        ("interest_accrued", accrued_i),
                        ("interest_receivable", interest_rec),
                        ("fee_accrued", accrued_f),
                        ("fee_receivable", fee_rec),
                    ):
                        if fen:
                            opening[account].append((loan_id, fen))
            # Pass 3: their installments.
            with cur.copy(f"COPY installment ({', '.join(INST_COLUMNS)}) FROM STDIN") as icopy:
                for loan_id, (ti, start, past, behind) in enumerate(shapes, start=1):
                    t = tpls[ti]
                    for k, (p, i, f) in enumerate(t.rows, start=1):
                        due = add_months(start, k)
                        if k <= past - behind:
                            icopy.write_row((loan_id, k, due, p, i, f, p, i, f, "paid", False, due))
                        elif k <= past:
                            icopy.write_row((loan_id, k, due, p, i, f, 0, 0, 0, "due", False, None))
                        else:
                            icopy.write_row((loan_id, k, due, p, i, f, 0, 0, 0, "pending", False, None))
            entry_id = cur.execute(
                "INSERT INTO journal_entry (idempotency_key, reason, business_date, memo, created_at) "
                "VALUES ('bench:opening', 'adjustment', %s, 'opening balances of the generated book', now()) "
                "RETURNING id",
                (closed,),
            ).fetchone()[0]  # type: ignore[index]
            total = 0
            with cur.copy("COPY journal_line (entry_id, account, loan_id, debit_fen, credit_fen) FROM STDIN") as jcopy:
                for account, rows in opening.items():
                    for loan_id, fen in rows:
                        jcopy.write_row((entry_id, account, loan_id, fen, 0))
                        total += fen
                jcopy.write_row((entry_id, "funder_payable", None, 0, total))
            cur.execute("SELECT setval(pg_get_serial_sequence('loan', 'id'), %s)", (n,))
        conn.commit()
        with psycopg.connect(_plain(url), autocommit=True) as c2:
            c2.execute("VACUUM ANALYZE loan")
            c2.execute("VACUUM ANALYZE installment")
            c2.execute("VACUUM ANALYZE journal_line")
    print(f"generated {n:,} loans with COPY in {time.perf_counter() - t0:.1f} s")


def baseline_update(url: str, day: date) -> float:
    """One plain UPDATE of the open loans' rows (what the database needs just to rewrite them), rolled back."""
    with psycopg.connect(_plain(url)) as conn:
        start = time.perf_counter()
        cur = conn.execute(
            "UPDATE loan SET interest_accrued_fen = interest_accrued_fen + 1, cob_date = %s "
            "WHERE status IN ('active', 'overdue') AND cob_date < %s",
            (day, day),
        )
        seconds = time.perf_counter() - start
        rows = cur.rowcount
        conn.rollback()
    print(f"  baseline: plain UPDATE of {rows:,} open loan rows: {seconds:.2f} s")
    return seconds


def reset_peak_rss() -> None:
    """Forget this process's peak RSS so far (Linux: VmHWM), so the next peak is the COB's own."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mib() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def fenqi_workers(url: str, n: int, netns_url: str | None = None) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`n` worker processes (`fenqi worker --queues cob`) on the benchmark's database, stopped afterwards;
    with `netns_url`, the first runs in its own network namespace and reaches the database at that URL."""
    from bench.cob_netns import in_netns

    exe = Path(sys.executable).with_name("fenqi")
    with psycopg.connect(_plain(url)) as conn:
        before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM procrastinate_workers").fetchone()[0]  # type: ignore[index]
    procs = []
    for k in range(n):
        command = [str(exe), "worker", "--queues", "cob", "--concurrency", "1"]
        worker_url = netns_url if netns_url and k == 0 else url
        env = {**os.environ, "FENQI_DATABASE_URL": worker_url, "FENQI_COB_TIME": ""}
        procs.append(subprocess.Popen(in_netns(command) if netns_url and k == 0 else command, env=env,
                                      stdout=subprocess.DEVNULL))
    try:
        _wait_registered(url, before, n, procs)
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)


def _wait_registered(url: str, before: int, n: int, procs: list[subprocess.Popen[bytes]],
                     timeout: float = 300) -> None:
    """Until the `n` workers have started and registered with procrastinate: a worker pool is long-running
    in production, so a day's time counts from its jobs being enqueued, not from Python starting up."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        while conn.execute("SELECT COUNT(*) FROM procrastinate_workers WHERE id > %s",  # type: ignore[index]
                           (before,)).fetchone()[0] < n:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a worker exited while starting")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{n} workers not registered after {timeout} s")
            time.sleep(0.2)


def _day_line(report: RunReport, baseline: float) -> None:
    print(
        f"  COB {report.business_date}: {report.seconds:.2f} s, {report.loans:,} loans "
        f"({report.loans / report.seconds:,.0f}/s), "
        f"{report.due:,} installments due, {report.penalty:,} loans with penalties, "
        f"{report.write_off:,} written off; ratio to baseline {report.seconds / baseline:.2f}×"
    )


def _killed_run(url: str, copy: str, day: date, args: argparse.Namespace, netns_url: str | None) -> None:
    """The same day on the copy, one worker killed mid-run: the books must equal the uninterrupted run's."""
    want = digest(url)
    try:
        copy_netns = netns_url.rsplit("/", 1)[0] + "/" + copy.rsplit("/", 1)[1] if netns_url else None
        with fenqi_workers(copy, max(args.workers, 2), copy_netns) as procs:
            secs, retried = close_with_a_kill(copy, day, args.chunk_size, procs[0])
        got = digest(copy)
        same = got == want
        print(f"RESULT cob kill: a worker killed mid-run, the day finished in {secs:.1f} s by the other "
              f"({retried} job(s) given back); loans, journal and snapshot digests "
              f"{'IDENTICAL' if same else 'DIFFERENT'} to the uninterrupted run {want if same else (want, got)}")
    finally:
        drop_database(copy)


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench cob")
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=20_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="keep the book already generated in the database")
    parser.add_argument("--sim-loans", type=int, default=300)
    parser.add_argument("--sim-days", type=int, default=120)
    parser.add_argument("--netns", action="store_true",
                        help="run the first worker in its own network namespace over a veth link (root)")
    parser.add_argument("--relay-port", type=int, default=8121, help="the host end's relay port (with --netns)")
    parser.add_argument("--kill-worker", action="store_true",
                        help="also close the first day on a copy of the book, killing a worker mid-run; "
                             "the two books must be identical")
    args = parser.parse_args(argv)

    from fenqi.kit.db import make_engine
    from fenqi.servicing.check import check_books
    from fenqi.servicing.cob_runs import close_day, close_day_on_workers

    url = args.database_url
    ensure_database(url)
    if not args.reuse:
        fresh_schema(url)
        generate(url, args.loans)
    engine = make_engine(url)
    with engine.connect() as conn:
        open_loans = conn.execute(text("SELECT COUNT(*) FROM loan WHERE status IN ('active', 'overdue')")).scalar_one()
        today = conn.execute(text("SELECT current FROM business_date WHERE id = 1")).scalar_one()
    print(
        f"book: {open_loans:,} open loans; closing {args.days} business day(s) from {today} "
        f"with {args.workers} `fenqi worker` process(es) (0: in this process), chunks of {args.chunk_size:,}"
    )
    seconds, baselines = [], []
    engine.dispose()
    killed_copy = copy_database(url, "kill") if args.kill_worker else None
    reset_peak_rss()
    with contextlib.ExitStack() as stack:
        netns_url = stack.enter_context(netns_link(url, args.relay_port)) if args.netns else None
        for k in range(args.days):
            day = today + timedelta(days=k)
            baselines.append(baseline_update(url, day))
            if args.workers > 0:
                with fenqi_workers(url, args.workers, netns_url):
                    report = close_day_on_workers(engine, day, chunk_size=args.chunk_size)
            else:
                report = close_day(engine, day, chunk_size=args.chunk_size)
            _day_line(report, baselines[-1])
            seconds.append(report.seconds)
            if k == 0 and killed_copy:
                _killed_run(url, killed_copy, day, args, netns_url)
    per_day, base = statistics.median(seconds), statistics.median(baselines)
    print(
        f"RESULT cob: {per_day:.1f} s per business day (goal ≤ 60), {open_loans / per_day:,.0f} loans/s, "
        f"baseline UPDATE {base:.1f} s, ratio {per_day / base:.2f}× (goal ≤ 1.5×), "
        f"peak memory of the COB process {peak_rss_mib():.0f} MiB"
    )
    sample = (1, min(open_loans, 20_000))
    with Session(engine) as session:
        t = time.perf_counter()
        check = check_books(session, sample)
        print(
            f"ledger check (journal + loans {sample[0]}-{sample[1]}): {'OK' if check.ok else 'FAILED'} "
            f"in {time.perf_counter() - t:.1f} s" + ("" if check.ok else f" {check.to_json()}")
        )
    engine.dispose()
    if args.sim_loans and args.sim_days:
        simulate_bench(args.sim_loans, args.sim_days)


def simulate_bench(loans: int, days: int) -> None:
    import tempfile

    from fenqi.demo.simulate import simulate
    from fenqi.kit.db import make_engine
    from fenqi.kit.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/sim.db"
        upgrade(url)
        engine = make_engine(url)
        report = simulate(engine, loans=loans, days=days, seed=1)
        engine.dispose()
    print(
        f"RESULT simulate (SQLite): {loans} loans × {days} days in {report.seconds:.1f} s = "
        f"{report.loan_days_per_second:,.0f} loan·days/s; ledger check {'OK' if report.check['ok'] else 'FAILED'}"
    )
