"""Portfolio simulation: book N synthetic loans, live D business days with random shopper behaviour.

Deterministic for a seed: the shoppers' behaviour comes from `random.Random(seed)` drawn in a fixed
order, the business date starts on a fixed day, and close-of-business is integer-exact, so the same
seed prints the same portfolio on SQLite and on PostgreSQL.

The shoppers are those of the demo history: one model, `fenqi.demo.behaviour` (on time, late, partial,
early payoff, partial prepayment, return, default). A defaulter here is left to close-of-business, which
writes the loan off `write_off_days` past due.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fenqi.demo import behaviour
from fenqi.kit.clock import set_business_date
from fenqi.pricing.service import active_product_terms, seed_products
from fenqi.servicing.check import check_books
from fenqi.servicing.cob_runs import close_day
from fenqi.servicing.portfolio import has_loans, portfolio
from fenqi.servicing.service import book_loan, installments

START = date(2026, 1, 1)


@dataclass
class SimulationReport:
    loans: int
    days: int
    seed: int
    seconds: float = 0.0
    cob_seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)
    check: dict[str, Any] = field(default_factory=dict)

    @property
    def loan_days_per_second(self) -> float:
        return self.loans * self.days / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "loans": self.loans,
            "days": self.days,
            "seed": self.seed,
            "seconds": round(self.seconds, 2),
            "cob_seconds": round(self.cob_seconds, 2),
            "loan_days_per_second": round(self.loan_days_per_second),
            "portfolio": self.figures,
            "ledger_check": self.check,
        }


def simulate(engine: Engine, *, loans: int, days: int, seed: int, progress: bool = False) -> SimulationReport:
    """Run the simulation on an empty database at `engine` (schema already up to date)."""
    rng = random.Random(seed)
    report = SimulationReport(loans, days, seed)
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        if has_loans(session):
            raise RuntimeError("the simulation needs a database without loans")
        seed_products(session)
        set_business_date(session, START)
        products = active_product_terms(session)
    # Bookings spread over the first quarter of the run (at most 90 days).
    booking_days = max(1, min(90, days // 4))
    per_day: dict[int, int] = Counter(rng.randrange(booking_days) for _ in range(loans))
    shoppers: dict[int, behaviour.Shopper] = {}
    actions: dict[int, list[tuple[int, behaviour.Action]]] = defaultdict(list)  # day index → (loan id, action)
    n_booked = 0
    bar_ctx: Any = None
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        bar_ctx = Progress(
            TextColumn("simulate"), BarColumn(), MofNCompleteColumn(), TextColumn("days"), TimeElapsedColumn()
        )
        bar_ctx.start()
        task = bar_ctx.add_task("days", total=days)
    try:
        for day_index in range(days):
            today = START + timedelta(days=day_index)
            with Session(engine) as session, session.begin():
                for _ in range(per_day.get(day_index, 0)):
                    code, terms = products[rng.randrange(len(products))]
                    term = rng.choice(terms)
                    financed = rng.randrange(100_000, 800_000, 100)
                    loan = book_loan(
                        session,
                        external_ref=f"sim-{seed}-{n_booked}",
                        product_code=code,
                        financed_fen=financed,
                        term=term,
                    )
                    n_booked += 1
                    shopper = shoppers[loan.id] = behaviour.draw(rng)
                    dues = [r.due_date for r in installments(session, loan.id)]
                    for when, what in behaviour.schedule(shopper, today, dues):
                        if day_index < (when - START).days < days:
                            actions[(when - START).days].append((loan.id, what))
                for loan_id, what in actions.pop(day_index, []):
                    behaviour.act(session, loan_id, what, shoppers[loan_id], today,
                                  ref=f"sim-pay-{loan_id}-{today.isoformat()}-{what}", rng=rng)
            t = time.perf_counter()
            close_day(engine, today)
            report.cob_seconds += time.perf_counter() - t
            if bar_ctx is not None:
                bar_ctx.advance(task)
    finally:
        if bar_ctx is not None:
            bar_ctx.stop()
    report.seconds = time.perf_counter() - started
    with Session(engine) as session:
        report.figures = portfolio(session)
        report.figures["behaviours"] = dict(sorted(Counter(s.behaviour for s in shoppers.values()).items()))
        report.check = check_books(session).to_json()
    return report
