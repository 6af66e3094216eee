"""Re-pricing a loan (重新定价): more principal lent on a running loan, the rest of the schedule re-amortized.

Used by an exchange for a pricier phone when the shopper finances the difference instead of paying it at
the cashier (fenqi.aftersales.reprice). The loan must be current (nothing due or owed beyond the
schedule). The new schedule is the restructure's (fenqi.servicing.hardship_plans.restructure_plan) for
the principal outstanding plus the difference, over the periods left or a longer term: the current period
restarts today, its first row's interest is what was accrued to date plus the new principal's interest for
the days left; due dates stay on the contract's day; the APR is computed as everywhere else
(12 × the monthly IRR) and must be within the cap.

One balanced entry (reason `aftersales.reprice`, idempotent by `ref`):

    Dr principal_receivable   difference      the new principal, owed to the merchant like at booking
    Cr merchant_payable       difference      (the funder pays it out: fenqi.funding.disbursement)
    Dr interest_income / Cr interest_accrued  the current period's accrual, rescheduled into its new row
    Dr fee_income      / Cr fee_accrued       (close-of-business accrues it again)

The loan's financed amount grows by the difference (a later return cancels the whole of it).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import fmt_percent, rate_as_disclosed
from fenqi.kit.settings import get_settings
from fenqi.ledger import Account, Line, entry_posted, post_entry
from fenqi.pricing.errors import AprAboveCap
from fenqi.servicing.errors import LoanNotOpen
from fenqi.servicing.hardship import _apply_rows
from fenqi.servicing.hardship_plans import MAX_TERM, Plan, PlanRow, remaining_periods, restructure_plan
from fenqi.servicing.loans import get_loan, installments, merge_lines, refresh_delinquency, verify_against_ledger
from fenqi.servicing.models import InstallmentStatus, Loan, LoanStatus
from fenqi.servicing.rules import cap_headroom_ppb

REASON = "aftersales.reprice"


@dataclasses.dataclass(frozen=True, slots=True)
class Repriced:
    """The re-priced schedule as disclosed: the open rows from the current period on (fen still to pay)."""

    loan_id: int
    outstanding_fen: int  # principal outstanding before
    extra_fen: int
    term: int  # open periods of the new schedule
    rows: tuple[PlanRow, ...]
    apr: Decimal

    @property
    def principal_fen(self) -> int:
        return sum(r.principal for r in self.rows)


def not_current(loan: Loan) -> tuple[str, str] | None:
    """Why the loan cannot be re-priced now (zh, en), or None: it must be open and owe nothing beyond its
    schedule (no installment past due, no penalty)."""
    if loan.status not in LoanStatus.OPEN:
        return "贷款已结清或已取消", "the loan is no longer open"
    owed = loan.interest_receivable_fen + loan.fee_receivable_fen + loan.penalty_receivable_fen
    if loan.status != LoanStatus.ACTIVE or loan.dpd > 0 or owed:
        return "贷款有逾期或应还未还的款项，请先还清", "the loan has an installment due or overdue: pay it first"
    return None


def term_choices(session: Session, loan: Loan, product_terms: list[int]) -> list[int]:
    """The open periods a re-priced schedule may have: as many as are left, or one of the product's terms
    that is longer (never shorter: the installments would rise twice)."""
    left = remaining_periods(loan, installments(session, loan.id))
    return sorted({left} | {t for t in product_terms if left < t <= MAX_TERM}) if left else []


def _plan(session: Session, loan: Loan, extra_fen: int, term: int | None, today: date) -> tuple[Plan, int]:
    rows = installments(session, loan.id)
    if any(r.status == InstallmentStatus.DUE for r in rows):
        raise InvalidInput("installment due", zh="贷款有应还未还的分期，请先还清",
                           en="The loan has an installment due: pay it first")
    current = next((r for r in rows if r.period == loan.cur_period and r.status == InstallmentStatus.PENDING), None)
    if current is None or loan.cur_due_date is None:
        raise LoanNotOpen(str(loan.id))
    left = remaining_periods(loan, rows)
    n = left if term is None else term
    if n < left or n > MAX_TERM:
        raise InvalidInput(f"term {n}", zh=f"期数须在 {left} 至 {MAX_TERM} 期之间",
                           en=f"The term must be {left} to {MAX_TERM} periods from now")
    if not isinstance(extra_fen, int) or extra_fen <= 0:
        raise InvalidInput.saying(f"差价 {extra_fen} 分无效", f"difference of {extra_fen} fen")
    plan = restructure_plan(loan, rows, n, today, extra_fen=extra_fen)
    return dataclasses.replace(plan, kind="reprice", reverse_receivable=False, settle_due=False), n


def preview(session: Session, loan_id: int, *, extra_fen: int, term: int | None = None) -> Repriced:
    """The schedule a re-price would give today, with its APR (nothing is changed)."""
    loan = get_loan(session, loan_id)
    plan, n = _plan(session, loan, extra_fen, term, business_date(session))
    return Repriced(loan.id, loan.principal_outstanding_fen, extra_fen, n, plan.rows, plan.apr)


def reprice(session: Session, loan_id: int, *, extra_fen: int, term: int | None = None, price_delta_fen: int = 0,
            ref: str) -> Repriced:
    """Lend `extra_fen` more on the loan and re-amortize (see the module); idempotent by `ref`.
    `price_delta_fen`: how much the goods' price changed (the loan's recorded price follows)."""
    loan = get_loan(session, loan_id, lock=True)
    today = business_date(session)
    if entry_posted(session, f"reprice:{ref}"[:120]):
        rows = tuple(PlanRow(r.period, r.due_date, r.principal_fen - r.paid_principal_fen,
                             r.interest_fen - r.paid_interest_fen, r.fee_fen - r.paid_fee_fen)
                     for r in installments(session, loan.id)
                     if r.status == InstallmentStatus.PENDING and r.period >= loan.cur_period)
        return Repriced(loan.id, loan.principal_outstanding_fen - extra_fen, extra_fen, len(rows), rows, loan.apr)
    why = not_current(loan)
    if why is not None:
        raise InvalidInput(why[1], zh=why[0], en=why[1])
    verify_against_ledger(session, loan)
    plan, n = _plan(session, loan, extra_fen, term, today)
    cap = get_settings().apr_cap
    if rate_as_disclosed(plan.apr) > cap:
        raise AprAboveCap(apr=fmt_percent(plan.apr), cap=fmt_percent(cap))
    outstanding = loan.principal_outstanding_fen
    lines = [Line.dr(Account.PRINCIPAL_RECEIVABLE, extra_fen), Line.cr(Account.MERCHANT_PAYABLE, extra_fen)]
    for income, accrued, column in ((Account.INTEREST_INCOME, Account.INTEREST_ACCRUED, "interest_accrued_fen"),
                                    (Account.FEE_INCOME, Account.FEE_ACCRUED, "fee_accrued_fen")):
        fen = getattr(loan, column)
        if fen:
            lines += [Line.dr(income, fen, loan_id=loan.id), Line.cr(accrued, fen)]
            setattr(loan, column, 0)
    post_entry(session, reason=REASON, lines=merge_lines(lines), idempotency_key=f"reprice:{ref}"[:120],
               business_date=today, loan_id=loan.id, payment_ref=ref[:80],
               memo=f"换货重新定价 +{extra_fen} fen, {n} periods")
    loan.principal_outstanding_fen += extra_fen
    loan.financed_fen += extra_fen
    loan.price_fen += price_delta_fen
    _apply_rows(session, loan, installments(session, loan.id), plan, today)
    loan.apr = plan.apr.quantize(Decimal("1e-10"))
    loan.cap_headroom_ppb = cap_headroom_ppb(cap, plan.apr)
    refresh_delinquency(loan, installments(session, loan.id))
    verify_against_ledger(session, loan)
    session.flush()
    return Repriced(loan.id, outstanding, extra_fen, n, plan.rows, plan.apr)
