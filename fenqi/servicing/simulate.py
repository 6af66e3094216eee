"""Portfolio simulation: book N synthetic loans, live D business days with random shopper behaviour.

Deterministic for a seed: the shoppers' behaviour comes from `random.Random(seed)` drawn in a fixed
order, the business date starts on a fixed day, and close-of-business is integer-exact, so the same
seed prints the same portfolio on SQLite and on PostgreSQL.

Behaviours (drawn per loan): on time; late (pays 5-45 days after each due date); partial (pays 40-90%
of what is owed); early payoff (pays off on a random day); partial prepayment (once, then on time);
default (stops paying after a few installments and is eventually written off).
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date, set_business_date
from fenqi.kit.money import from_fen
from fenqi.ledger import Account, account_balance
from fenqi.pricing.service import active_product_terms, seed_products
from fenqi.servicing.check import check_books
from fenqi.servicing.cob_runs import close_day
from fenqi.servicing.models import Loan, LoanStatus
from fenqi.servicing.service import amount_due, apply_repayment, book_loan, get_loan, installments, payoff_quote

START = date(2026, 1, 1)
BEHAVIOURS = (
    ("on_time", 0.55),
    ("late", 0.14),
    ("partial", 0.10),
    ("payoff", 0.08),
    ("prepay", 0.05),
    ("default", 0.08),
)


@dataclass
class Shopper:
    behaviour: str
    delay: int = 0
    fraction: float = 1.0
    stop_after: int | None = None  # default: the last period paid
    payoff_day: int | None = None  # simulation day index
    prepay_day: int | None = None
    prepay_choice: str = "shorter_term"


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


def _draw(rng: random.Random, days: int) -> Shopper:
    roll, acc = rng.random(), 0.0
    behaviour = BEHAVIOURS[-1][0]
    for name, p in BEHAVIOURS:
        acc += p
        if roll < acc:
            behaviour = name
            break
    s = Shopper(behaviour)
    if behaviour == "late":
        s.delay = rng.randint(5, 45)
    elif behaviour == "partial":
        s.fraction = rng.uniform(0.4, 0.9)
    elif behaviour == "payoff":
        s.payoff_day = rng.randint(20, max(21, days - 1))
    elif behaviour == "prepay":
        s.prepay_day = rng.randint(20, max(21, days - 1))
        s.prepay_choice = rng.choice(("shorter_term", "lower_installment"))
    elif behaviour == "default":
        s.stop_after = rng.randint(0, 3)
    return s


def simulate(engine: Engine, *, loans: int, days: int, seed: int, progress: bool = False) -> SimulationReport:
    """Run the simulation on an empty database at `engine` (schema already up to date)."""
    rng = random.Random(seed)
    report = SimulationReport(loans, days, seed)
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        if session.scalar(select(func.count()).select_from(Loan)):
            raise RuntimeError("the simulation needs a database without loans")
        seed_products(session)
        set_business_date(session, START)
        products = active_product_terms(session)
    # Bookings spread over the first quarter of the run (at most 90 days).
    booking_days = max(1, min(90, days // 4))
    per_day: dict[int, int] = Counter(rng.randrange(booking_days) for _ in range(loans))
    shoppers: dict[int, Shopper] = {}
    actions: dict[int, list[tuple[int, str]]] = defaultdict(list)  # day index → (loan id, action)
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
                    shopper = _draw(rng, days)
                    shoppers[loan.id] = shopper
                    for r in installments(session, loan.id):
                        if shopper.stop_after is not None and r.period > shopper.stop_after:
                            break
                        pay_on = (r.due_date - START).days + shopper.delay
                        if pay_on < days:
                            actions[pay_on].append((loan.id, "pay"))
                    for when, what in ((shopper.payoff_day, "payoff"), (shopper.prepay_day, "prepay")):
                        if when is not None and when > day_index:
                            actions[when].append((loan.id, what))
                for loan_id, what in actions.pop(day_index, []):
                    _act(session, loan_id, what, shoppers[loan_id], today, rng)
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
        report.figures = portfolio(session, shoppers)
        report.check = check_books(session).to_json()
    return report


def _act(session: Session, loan_id: int, what: str, shopper: Shopper, today: date, rng: random.Random) -> None:
    loan = get_loan(session, loan_id)
    if loan.status not in LoanStatus.OPEN:
        return
    ref = f"sim-pay-{loan_id}-{today.isoformat()}-{what}"
    if what == "pay":
        owed = amount_due(session, loan_id, today)
        amount = int(owed * shopper.fraction)
        if amount > 0:
            apply_repayment(
                session,
                loan_id=loan_id,
                amount_fen=amount,
                payment_ref=ref,
                channel=rng.choice(("alipay", "wechatpay")),
            )
    elif what == "payoff":
        quote = payoff_quote(session, loan_id)
        if quote.total > 0:
            apply_repayment(session, loan_id=loan_id, amount_fen=quote.total, payment_ref=ref, purpose="payoff")
    elif what == "prepay" and loan.oldest_unpaid_due is None:
        amount = max(100, loan.principal_outstanding_fen // 3)
        apply_repayment(
            session,
            loan_id=loan_id,
            amount_fen=amount,
            payment_ref=ref,
            purpose="prepayment",
            prepayment_choice=shopper.prepay_choice,
        )


def portfolio(session: Session, shoppers: dict[int, Shopper] | None = None) -> dict[str, Any]:
    """The book as finance sees it: outstanding, collected, income by kind, DPD distribution, losses."""

    def y(fen: int) -> str:
        return str(from_fen(fen))

    by_status = dict(session.execute(select(Loan.status, func.count()).group_by(Loan.status)).all())
    open_loans = Loan.status.in_(LoanStatus.OPEN)
    buckets = dict(session.execute(select(Loan.bucket, func.count()).where(open_loans).group_by(Loan.bucket)).all())
    outstanding = int(session.scalar(select(func.coalesce(func.sum(Loan.principal_outstanding_fen), 0))) or 0)
    cash = sum(account_balance(session, a) for a in (Account.CASH_ALIPAY, Account.CASH_WECHATPAY, Account.CASH_BANK))
    financed = int(session.scalar(select(func.coalesce(func.sum(Loan.financed_fen), 0))) or 0)
    income = {
        "interest": account_balance(session, Account.INTEREST_INCOME),
        "fee": account_balance(session, Account.FEE_INCOME),
        "penalty": account_balance(session, Account.PENALTY_INCOME),
        "recoveries": account_balance(session, Account.RECOVERY_INCOME),
    }
    losses = account_balance(session, Account.WRITE_OFF_EXPENSE)
    figures: dict[str, Any] = {
        "business_date": business_date(session).isoformat(),
        "loans_by_status": {k: by_status.get(k, 0) for k in ("active", "overdue", "paid_off", "written_off")},
        "financed": y(financed),
        "outstanding_principal": y(outstanding),
        "receivable": {
            "interest": y(account_balance(session, Account.INTEREST_RECEIVABLE)),
            "fee": y(account_balance(session, Account.FEE_RECEIVABLE)),
            "penalty": y(account_balance(session, Account.PENALTY_RECEIVABLE)),
            "accrued_interest": y(account_balance(session, Account.INTEREST_ACCRUED)),
            "accrued_fee": y(account_balance(session, Account.FEE_ACCRUED)),
        },
        "collected": y(cash),
        "income": {k: y(v) for k, v in income.items()},
        "credit_balances": y(account_balance(session, Account.CUSTOMER_CREDIT)),
        "dpd_buckets": {k: buckets[k] for k in sorted(buckets)},
        "losses_written_off": y(losses),
        "loss_rate": f"{losses / financed:.4f}" if financed else "0.0000",
    }
    if shoppers:
        figures["behaviours"] = dict(sorted(Counter(s.behaviour for s in shoppers.values()).items()))
    return figures
