"""Hardship (纾困) schedules, pure: the new schedule of a payment holiday, a re-ageing or a restructure,
its cost and its APR, from a loan's figures and rows. No database; fenqi.servicing.hardship applies them.

Every plan lists the loan's open schedule from the first period it changes, in fen still to pay. The
principal of the plan's rows is the loan's principal outstanding, to the fen; their interest and fee are
the cost disclosed with the plan (rescheduled interest and fee the shopper already owed, plus the
interest of the new schedule). The APR is the project's (fenqi.pricing.apr): 12 × the monthly internal
rate of return of (−what the plan repays, each period's total), holiday periods counting as zero.

Due dates stay on the contract's day: period q falls due add_months(start, q). Only a loan already past
its last due date gets its new periods moved whole months later, so that the first falls after today.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from fenqi.kit.money import from_fen, to_fen
from fenqi.pricing.apr import apr as compute_apr
from fenqi.pricing.dates import add_months
from fenqi.pricing.schedule import Method, build_schedule
from fenqi.servicing.models import HardshipKind, Installment, InstallmentStatus, Loan
from fenqi.servicing.rules import accrual_target

MAX_HOLIDAY_MONTHS = 6
MAX_TERM = 60


@dataclass(frozen=True, slots=True)
class PlanRow:
    period: int
    due_date: date
    principal: int  # fen still to pay in this period
    interest: int
    fee: int
    holiday: bool = False

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fee


@dataclass(frozen=True, slots=True)
class Plan:
    """A new open schedule and what it does to the loan's books."""

    kind: str
    rows: tuple[PlanRow, ...]  # the open schedule from the first changed period on (every open period listed)
    base_fen: int  # what the plan repays: principal + the interest and fee already owed or accrued
    reverse_accrued: bool  # the current period's accrual is rescheduled (reversed, re-accrued by COB)
    reverse_receivable: bool  # the arrears' interest and fee are rescheduled, the penalty waived
    settle_due: bool  # the past-due installments are closed at what was paid on them
    restart_today: bool  # the current period restarts today (its interest to date is in its first row)
    apr: Decimal

    @property
    def principal_fen(self) -> int:
        return sum(r.principal for r in self.rows)

    @property
    def cost_fen(self) -> int:
        """Interest and fee of the new schedule (disclosed with it)."""
        return sum(r.interest + r.fee for r in self.rows)

    @property
    def total_fen(self) -> int:
        return sum(r.total for r in self.rows)

    @property
    def term(self) -> int:
        return max(r.period for r in self.rows)


def _half_up(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def spread(total: int, parts: int) -> list[int]:
    """`total` fen in `parts` equal parts, rounded down; the last part takes the remainder."""
    if parts <= 0:
        return []
    each = total // parts
    return [each] * (parts - 1) + [total - each * (parts - 1)]


def _open(rows: Sequence[Installment], status: str) -> list[Installment]:
    return sorted((r for r in rows if r.status == status), key=lambda r: r.period)


def _due_dates(loan: Loan, periods: Sequence[int], today: date) -> list[date]:
    """add_months(start, q); moved whole months later only when the first would not be after today."""
    shift = 0
    while periods and add_months(loan.start_date, periods[0] + shift) <= today and shift < 1200:
        shift += 1
    return [add_months(loan.start_date, q + shift) for q in periods]


def _schedule(loan: Loan, principal: int, term: int) -> list[tuple[int, int, int]]:
    """(principal, interest, fee) of the contract's method and rates for `principal` over `term`."""
    return [
        (to_fen(r.principal), to_fen(r.interest), to_fen(r.fee))
        for r in build_schedule(
            Method(loan.method), from_fen(principal), term, loan.start_date, loan.annual_rate, loan.fee_rate
        )
    ]


def plan_apr(base_fen: int, rows: Sequence[PlanRow]) -> Decimal:
    """12 × the monthly IRR of (−base, each period's total), as everywhere in the project."""
    if base_fen <= 0 or not rows:
        return Decimal(0)
    return compute_apr(from_fen(base_fen), [from_fen(r.total) for r in rows])


def holiday_plan(loan: Loan, rows: Sequence[Installment], months: int, today: date) -> Plan:
    """Defer the next `months` installments (the current period's included): those periods are holiday
    periods with nothing to pay, the rest of the schedule moves `months` periods later.

    Interest accrues during the holiday at the contract rate on the principal outstanding (simple, not
    compounded): the current period's interest and fee, and a month's interest for each further holiday
    month. That deferred interest is added in equal parts to the installments after the holiday, which
    repay the principal by the contract's method over as many periods as were left.
    """
    pending = [r for r in _open(rows, InstallmentStatus.PENDING) if r.period >= loan.cur_period]
    p, principal = loan.cur_period, loan.principal_outstanding_fen
    m = len(pending)
    monthly = _half_up(Decimal(principal) * loan.annual_rate / 12)
    deferred_interest = loan.cur_interest_fen + (months - 1) * monthly
    deferred_fee = loan.cur_fee_fen
    periods = list(range(p, p + months + m))
    dates = [r.due_date for r in pending] + _due_dates(loan, periods[m:], today)
    out = [PlanRow(q, dates[i], 0, 0, 0, holiday=True) for i, q in enumerate(periods[:months])]
    si, sf = spread(deferred_interest, m), spread(deferred_fee, m)
    for k, (pr, it, fe) in enumerate(_schedule(loan, principal, m)):
        q = periods[months + k]
        out.append(PlanRow(q, dates[months + k], pr, it + si[k], fe + sf[k]))
    base = principal + loan.interest_accrued_fen + loan.fee_accrued_fen
    return Plan(HardshipKind.HOLIDAY, tuple(out), base, True, False, False, False, plan_apr(base, out))


def reage_plan(loan: Loan, rows: Sequence[Installment], today: date) -> Plan:
    """Bring the loan current: each past-due installment's unpaid part moves to a new period after the
    last one (one period each, in their order, no interest added); the installments not yet due keep
    their amounts and dates; unpaid penalty is waived."""
    due = _open(rows, InstallmentStatus.DUE)
    pending = [r for r in _open(rows, InstallmentStatus.PENDING) if r.period >= loan.cur_period]
    last = max([r.period for r in rows if r.status != InstallmentStatus.CANCELLED] + [loan.cur_period - 1])
    periods = list(range(last + 1, last + 1 + len(due)))
    dates = _due_dates(loan, periods, max([today] + [r.due_date for r in pending]))
    kept = [
        PlanRow(
            r.period,
            r.due_date,
            r.principal_fen - r.paid_principal_fen,
            r.interest_fen - r.paid_interest_fen,
            r.fee_fen - r.paid_fee_fen,
        )
        for r in pending
    ]
    moved = [
        PlanRow(
            q,
            dates[i],
            r.principal_fen - r.paid_principal_fen,
            r.interest_fen - r.paid_interest_fen,
            r.fee_fen - r.paid_fee_fen,
        )
        for i, (q, r) in enumerate(zip(periods, due, strict=True))
    ]
    out = kept + moved
    # The current period's accrual stays where it is (its row is kept), so it counts in what is repaid.
    base = (
        loan.principal_outstanding_fen
        + loan.interest_receivable_fen
        + loan.fee_receivable_fen
        + loan.interest_accrued_fen
        + loan.fee_accrued_fen
    )
    return Plan(HardshipKind.REAGE, tuple(out), base, False, True, True, False, plan_apr(base, out))


def restructure_plan(loan: Loan, rows: Sequence[Installment], new_term: int, today: date, extra_fen: int = 0) -> Plan:
    """Re-amortize the principal outstanding (past-due principal included) over `new_term` periods from
    the current one, by the contract's method and rates. The current period restarts today: its first
    row's interest is the interest accrued to date plus the new principal's interest for the days left.
    The arrears' interest and fee are added in equal parts to the new installments (no interest on
    them); unpaid penalty is waived. `extra_fen`: principal lent on top today (a pricier exchange
    re-priced, fenqi.servicing.reprice), re-amortized with the rest."""
    p, principal = loan.cur_period, loan.principal_outstanding_fen + extra_fen
    periods = list(range(p, p + new_term))
    current = next((r for r in rows if r.period == p and r.status == InstallmentStatus.PENDING), None)
    if current is not None:
        later = _due_dates(loan, periods[1:], today) if new_term > 1 else []
        dates = [current.due_date, *later]
    else:
        dates = _due_dates(loan, periods, today)
    sched = _schedule(loan, principal, new_term)
    si = spread(loan.interest_receivable_fen, new_term)
    sf = spread(loan.fee_receivable_fen, new_term)
    out = []
    for k, (pr, it, fe) in enumerate(sched):
        if k == 0 and current is not None and loan.cur_due_date is not None:
            n = max((loan.cur_due_date - loan.cur_period_start).days, 1)
            left = max((loan.cur_due_date - today).days, 0)
            it = loan.interest_accrued_fen + accrual_target(it, left, n)
            fe = loan.fee_accrued_fen + accrual_target(fe, left, n)
        out.append(PlanRow(periods[k], dates[k], pr, it + si[k], fe + sf[k]))
    base = (
        principal
        + loan.interest_receivable_fen
        + loan.fee_receivable_fen
        + loan.interest_accrued_fen
        + loan.fee_accrued_fen
    )
    return Plan(HardshipKind.RESTRUCTURE, tuple(out), base, True, True, True, True, plan_apr(base, out))


def remaining_periods(loan: Loan, rows: Sequence[Installment]) -> int:
    """Open periods left: past-due installments and those not yet due."""
    return sum(
        1
        for r in rows
        if r.status == InstallmentStatus.DUE
        or (r.status == InstallmentStatus.PENDING and r.period >= loan.cur_period)
    )
