"""Early repayment (提前还款): the payoff quote for any date, and the prepayment itself — interest and fee
to date, the most principal the amount covers with its fee, the schedule re-amortized."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import from_fen, to_fen
from fenqi.ledger import Account, Line
from fenqi.pricing.dates import add_months
from fenqi.pricing.schedule import Method, build_schedule
from fenqi.pricing.service import ServicingTerms
from fenqi.servicing.allocation import Owed, allocate
from fenqi.servicing.errors import InvariantViolation, LoanNotOpen
from fenqi.servicing.loans import get_loan, installments, product_of
from fenqi.servicing.models import Installment, InstallmentStatus, Loan, LoanStatus, Repayment
from fenqi.servicing.rules import accrual_target, budget_increment_nfen, daily_penalty, penalty_room
from fenqi.servicing.views import payoff_json


def interest_to_date(loan: Loan, product: ServicingTerms, on: date) -> tuple[int, int]:
    """Interest and fee of the current period owed for early repayment on `on` (the product's rule)."""
    if loan.cur_due_date is None:
        return 0, 0
    if product.prepayment_interest_rule == "full_period":
        return loan.cur_interest_fen, loan.cur_fee_fen
    n = (loan.cur_due_date - loan.cur_period_start).days
    d = (on - loan.cur_period_start).days
    return accrual_target(loan.cur_interest_fen, d, n), accrual_target(loan.cur_fee_fen, d, n)


def _fee_on(principal: int, rate: Decimal) -> int:
    return int((principal * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _principal_for(amount: int, principal_max: int, rate: Decimal) -> int:
    """The most principal that `amount` covers together with its prepayment fee.

    x + round_half_up(x·rate) is non-decreasing in x and at least x·(1 + rate) − ½, so the answer is
    below amount/(1 + rate) + 1: start just above it and step down (starting from the quotient rounded
    down would miss a principal whose fee rounds down, leaving a fen owing and a fen of credit).
    """
    x = min(principal_max, int(Decimal(amount) / (1 + rate)) + 2)
    while x > 0 and x + _fee_on(x, rate) > amount:
        x -= 1
    return x


def prepay(
    session: Session, loan: Loan, rows: list[Installment], amount: int, today: date, choice: str, rep: Repayment,
    *, fee_free: bool = False,
) -> tuple[int, list[Line]]:
    """Early repayment with nothing past due: returns what is left of `amount` and the entry's lines
    (`fee_free`: no prepayment fee, for what the merchant pays off a loan)."""
    product = product_of(session, loan)
    lines: list[Line] = []
    interest, fee = interest_to_date(loan, product, today)
    current = next((r for r in rows if r.period == loan.cur_period and r.status == InstallmentStatus.PENDING), None)
    if amount < interest + fee or current is None:
        return amount, lines
    # Recognise the current period's interest and fee to date (the part COB has not accrued yet),
    # and take them now.
    extra_interest, extra_fee = interest - loan.interest_accrued_fen, fee - loan.fee_accrued_fen
    if extra_interest > 0:
        lines += [Line.dr(Account.INTEREST_ACCRUED, extra_interest), Line.cr(Account.INTEREST_INCOME, extra_interest)]
    if extra_fee > 0:
        lines += [Line.dr(Account.FEE_ACCRUED, extra_fee), Line.cr(Account.FEE_INCOME, extra_fee)]
    if interest:
        lines.append(Line.cr(Account.INTEREST_ACCRUED, interest))
    if fee:
        lines.append(Line.cr(Account.FEE_ACCRUED, fee))
    # The Dr/Cr pair above nets the accrued account to zero: what COB accrued plus today's top-up is paid.
    if extra_interest < 0 or extra_fee < 0:
        raise InvariantViolation(
            f"loan {loan.id}: accrued {loan.interest_accrued_fen}/{loan.fee_accrued_fen} fen exceeds "
            f"the interest/fee to date {interest}/{fee} fen"
        )
    loan.interest_accrued_fen = loan.fee_accrued_fen = 0
    current.paid_interest_fen += interest
    current.paid_fee_fen += fee
    rep.interest_fen += interest
    rep.fee_fen += fee
    amount -= interest + fee

    rate = Decimal(0) if fee_free else product.prepayment_fee_rate
    principal = _principal_for(amount, loan.principal_outstanding_fen, rate)
    prepay_fee = _fee_on(principal, rate)
    if principal:
        lines.append(Line.cr(Account.PRINCIPAL_RECEIVABLE, principal))
    if prepay_fee:
        lines.append(Line.cr(Account.FEE_INCOME, prepay_fee, loan_id=loan.id))
    loan.principal_outstanding_fen -= principal
    rep.principal_fen += principal
    rep.prepayment_fee_fen = prepay_fee
    amount -= principal + prepay_fee
    _reamortize(loan, product, rows, current, principal, today, choice)
    return amount, lines


def _reamortize(
    loan: Loan, product: ServicingTerms, rows: list[Installment], current: Installment, prepaid: int, today: date,
    choice: str,
) -> None:
    """Rebuild the schedule from the current period on for the principal left; keep the due dates.

    The current period restarts today: its remaining interest (and fee) is the new schedule's first
    period's, prorated to the days left until its due date.
    """
    pending = [r for r in rows if r.status == InstallmentStatus.PENDING and r.period >= current.period]
    pending.sort(key=lambda r: r.period)
    left = loan.principal_outstanding_fen
    # Paid principal of the current installment stays paid; only unpaid principal is rescheduled.
    current_paid_principal = current.paid_principal_fen
    if left == 0:
        for r in pending:
            r.principal_fen = r.paid_principal_fen
            r.interest_fen, r.fee_fen = r.paid_interest_fen, r.paid_fee_fen
            r.status = InstallmentStatus.CANCELLED if r is not current else InstallmentStatus.PAID
            r.paid_on = today if r is current else None
        loan.cur_interest_fen = loan.cur_fee_fen = 0
        loan.cur_period_start = today
        return
    method = Method(loan.method)
    old_total = current.principal_fen + current.interest_fen + current.fee_fen
    m = len(pending)
    if choice == "shorter_term":
        for candidate in range(1, len(pending) + 1):
            sched = build_schedule(method, from_fen(left), candidate, loan.start_date, loan.annual_rate, loan.fee_rate)
            if max(r.total for r in sched) <= from_fen(old_total) or candidate == len(pending):
                m = candidate
                break
    sched = build_schedule(method, from_fen(left), m, loan.start_date, loan.annual_rate, loan.fee_rate)
    # Prorate over the whole period's days (from the previous due date), not from an earlier
    # prepayment's restart of it: the new first period's interest is for the days left of the period.
    period_start = add_months(loan.start_date, current.period - 1)
    period_days = max((current.due_date - period_start).days, 1)
    remaining_days = max((current.due_date - today).days, 0)
    full = product.prepayment_interest_rule == "full_period"
    for i, r in enumerate(pending):
        if i >= m:
            r.principal_fen, r.interest_fen, r.fee_fen = r.paid_principal_fen, r.paid_interest_fen, r.paid_fee_fen
            r.status = InstallmentStatus.CANCELLED
            continue
        row = sched[i]
        interest, fee = to_fen(row.interest), to_fen(row.fee)
        if i == 0:
            interest = 0 if full else accrual_target(interest, remaining_days, period_days)
            fee = 0 if full else accrual_target(fee, remaining_days, period_days)
            loan.cur_interest_fen, loan.cur_fee_fen = interest, fee
            r.principal_fen = current_paid_principal + to_fen(row.principal)
            r.interest_fen = r.paid_interest_fen + interest
            r.fee_fen = r.paid_fee_fen + fee
        else:
            r.principal_fen, r.interest_fen, r.fee_fen = to_fen(row.principal), interest, fee
        r.due_date = add_months(loan.start_date, r.period)
    loan.cur_period_start = today
    loan.term = pending[0].period + m - 1


@dataclass(frozen=True, slots=True)
class PayoffQuote:
    loan_id: int
    on: date
    principal: int
    interest: int  # past due + to date
    fee: int  # past due + to date
    penalty: int
    prepayment_fee: int
    credit: int  # the shopper's credit balance, deducted
    total: int  # what to pay
    scheduled: int = 0  # what paying every bill left as scheduled costs (same penalty, less the same credit)
    interest_saved: int = 0  # scheduled interest left − the interest in this quote
    fees_saved: int = 0  # scheduled fees left − the fees in this quote − the prepayment fee (negative: costs more)

    @property
    def saved(self) -> int:
        """What paying off now saves against paying the schedule (negative: paying off costs more)."""
        return self.scheduled - self.total

    def to_json(self) -> dict[str, object]:
        return payoff_json(self)


def payoff_quote(session: Session, loan_id: int, on: date | None = None) -> PayoffQuote:
    """What paying the loan off on `on` (default: today's business date) costs.

    For a later date the figure is projected assuming no payment until then: installments falling due
    by then are owed in full, the current period's interest and fee by the product's rule, and penalty
    interest for the days in between at today's overdue principal (within the APR-cap budget).
    """
    loan = get_loan(session, loan_id)
    today = business_date(session)
    on = on or today
    if on < today:
        raise InvalidInput.saying(f"结清报价只能是今天（{today}）或以后的日期，不能是 {on}",
                                  f"a payoff quote is for today ({today}) or later, not {on}")
    if loan.status not in LoanStatus.OPEN:
        raise LoanNotOpen(str(loan_id))
    product = product_of(session, loan)
    rows = installments(session, loan_id)
    interest = loan.interest_receivable_fen
    fee = loan.fee_receivable_fen
    # Periods that fall due before `on` are owed whole; the period containing `on` by the product's rule.
    pending = [r for r in rows if r.status == InstallmentStatus.PENDING]
    future = [r for r in pending if r.due_date > on]
    due_by_then = [r for r in pending if r.due_date <= on]
    for r in due_by_then:
        interest += r.interest_fen - r.paid_interest_fen
        fee += r.fee_fen - r.paid_fee_fen
    if future:
        current = min(future, key=lambda r: r.period)
        if current.period == loan.cur_period:
            i, f = interest_to_date(loan, product, on)
        else:
            start = add_months(loan.start_date, current.period - 1)
            n, d = (current.due_date - start).days, (on - start).days
            full = product.prepayment_interest_rule == "full_period"
            i = current.interest_fen if full else accrual_target(current.interest_fen, d, n)
            f = current.fee_fen if full else accrual_target(current.fee_fen, d, n)
        interest += i
        fee += f
    # (Interest and fee accrued so far belong to the current period's installment, counted above.)
    penalty = loan.penalty_receivable_fen + _projected_penalty(loan, rows, product.allocation_order, today, on)
    principal_due_then = sum(r.principal_fen - r.paid_principal_fen for r in rows if r.status == InstallmentStatus.DUE)
    principal_due_then += sum(r.principal_fen - r.paid_principal_fen for r in due_by_then)
    future_principal = loan.principal_outstanding_fen - principal_due_then
    prepay_fee = _fee_on(future_principal, product.prepayment_fee_rate)
    owed = loan.principal_outstanding_fen + interest + fee + penalty + prepay_fee
    open_rows = [r for r in rows if r.status in (InstallmentStatus.DUE, InstallmentStatus.PENDING)]
    scheduled_interest = sum(r.interest_fen - r.paid_interest_fen for r in open_rows)
    scheduled_fee = sum(r.fee_fen - r.paid_fee_fen for r in open_rows)
    scheduled = loan.principal_outstanding_fen + scheduled_interest + scheduled_fee + penalty
    return PayoffQuote(
        loan.id,
        on,
        loan.principal_outstanding_fen,
        interest,
        fee,
        penalty,
        prepay_fee,
        loan.credit_balance_fen,
        max(0, owed - loan.credit_balance_fen),
        max(0, scheduled - loan.credit_balance_fen),
        scheduled_interest - interest,
        scheduled_fee - fee - prepay_fee,
    )


def _projected_penalty(loan: Loan, rows: Sequence[Installment], order: Sequence[str], today: date, on: date) -> int:
    """Penalty interest and late fees close-of-business will charge on the days closed before `on` if
    nothing is paid meanwhile: its credit and penalty steps (fenqi.servicing.cob), day by day —
    installments falling due in between become overdue too, the credit balance is applied to what is
    due, and the APR-cap budget grows with the principal outstanding."""
    total, budget, charged = 0, loan.cap_budget_nfen, loan.penalty_charged_fen
    credit, penalty, principal = loan.credit_balance_fen, loan.penalty_receivable_fen, loan.principal_outstanding_fen
    owed = {
        r.period: [
            r.fee_fen - r.paid_fee_fen,
            r.interest_fen - r.paid_interest_fen,
            r.principal_fen - r.paid_principal_fen,
        ]
        for r in rows
        if r.status in (InstallmentStatus.DUE, InstallmentStatus.PENDING)
    }
    open_rows = sorted((r for r in rows if r.period in owed), key=lambda r: (r.due_date, r.period))
    late_fee_charged = {r.period for r in open_rows if r.late_fee_charged}
    day = max(today, loan.cob_date + timedelta(days=1))
    while day < on:
        due = [r for r in open_rows if r.due_date <= day]
        if credit > 0 and (penalty > 0 or any(sum(owed[r.period]) > 0 for r in due)):
            alloc = allocate(credit, penalty, [Owed(r.period, *owed[r.period]) for r in due], order)
            for k, part in enumerate((alloc.fee, alloc.interest, alloc.principal)):
                for period, fen in part.items():
                    owed[period][k] -= fen
            credit, penalty, principal = (
                credit - alloc.applied,
                penalty - alloc.penalty,
                principal - alloc.total("principal"),
            )
        late = [r for r in due if (day - r.due_date).days > loan.grace_days and sum(owed[r.period]) > 0]
        base = sum(owed[r.period][2] for r in late)
        new_late = [r for r in late if r.period not in late_fee_charged]
        room = penalty_room(budget, charged)
        p = min(daily_penalty(base, loan.penalty_rate_ppb), room)
        f = min(len(new_late) * loan.late_fee_fen, room - p)
        late_fee_charged.update(r.period for r in new_late)
        total, charged, penalty = total + p + f, charged + p + f, penalty + p + f
        budget += budget_increment_nfen(principal, loan.cap_headroom_ppb)
        day += timedelta(days=1)
    return total
