"""Hardship (纾困) as servicing operations, each proposed by one staff user and approved by another
(maker-checker): a payment holiday (延期还款), a re-ageing (再账龄), a restructure (重组) and a
settlement offer (和解结清, a discounted payoff).

Approving a holiday, re-ageing or restructure rewrites the loan's open schedule (fenqi.servicing.
hardship_plans) and posts one balanced entry that moves the interest and fee being rescheduled out of
the books until close-of-business accrues them again in their new periods (Dr income / Cr accrued or
receivable), and waives unpaid penalty into `hardship_waiver`. The new schedule's APR is computed as
everywhere else and must be within the cap, or the arrangement is refused. A settlement offer is only
an agreement until paid: the payment that reaches the amount agreed closes the loan, every receivable
cleared by the cash and the discount, which is posted to `hardship_waiver`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.db import utcnow
from fenqi.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from fenqi.kit.money import fmt_percent, rate_as_disclosed
from fenqi.kit.settings import get_settings
from fenqi.ledger import Account, Line, Reason, post_entry
from fenqi.pricing.errors import AprAboveCap
from fenqi.servicing.errors import InvariantViolation, LoanNotOpen
from fenqi.servicing.hardship_plans import (
    MAX_HOLIDAY_MONTHS,
    MAX_TERM,
    Plan,
    holiday_plan,
    reage_plan,
    remaining_periods,
    restructure_plan,
)
from fenqi.servicing.lifecycle import close_if_settled
from fenqi.servicing.loans import (
    get_loan,
    installments,
    merge_lines,
    owed_fen,
    refresh_delinquency,
    verify_against_ledger,
)
from fenqi.servicing.models import (
    HardshipArrangement,
    HardshipKind,
    HardshipStatus,
    Installment,
    InstallmentStatus,
    Loan,
    LoanStatus,
    Repayment,
)
from fenqi.servicing.rules import cap_headroom_ppb

GOOD_PAYMENTS_FOR_REAGE = 3  # consecutive installments paid in full by their due date
REAGE_INTERVAL_DAYS = 365  # at most one re-ageing a year
SETTLEMENT_DAYS = 30  # default validity of a settlement offer

# Called with (session, loan_id, business date) when a settlement offer is paid and the loan closed;
# collections registers its case closing here (fenqi.wiring), servicing does not know about cases.
SettledHook = Callable[[Session, int, date], object]
_SETTLED_HOOKS: list[SettledHook] = []


def on_settled(hook: SettledHook) -> None:
    if hook not in _SETTLED_HOOKS:
        _SETTLED_HOOKS.append(hook)


# Called with (session, arrangement) when an arrangement made for a hardship request (`request_id`) is
# proposed, approved, rejected, settled or expires, in the same transaction; collections keeps the
# shopper's request in step (and refuses a request that is not the loan's by raising).
ArrangementHook = Callable[[Session, HardshipArrangement], None]
_ARRANGEMENT_HOOKS: list[ArrangementHook] = []


def on_arrangement(hook: ArrangementHook) -> None:
    if hook not in _ARRANGEMENT_HOOKS:
        _ARRANGEMENT_HOOKS.append(hook)


def _tell(session: Session, arr: HardshipArrangement) -> None:
    if arr.request_id is not None:
        for hook in _ARRANGEMENT_HOOKS:
            hook(session, arr)


class HardshipRefused(Conflict):
    code = "hardship_refused"
    zh = "不能办理该纾困方案：{zh_detail}"
    en = "This hardship arrangement is not possible: {detail}"


class SameApprover(Forbidden):
    code = "maker_checker"
    zh = "纾困方案须由提出人以外的另一名员工审批"
    en = "A hardship arrangement must be approved by someone other than the person who proposed it"


def _refuse(zh: str, en: str) -> HardshipRefused:
    return HardshipRefused(en, zh_detail=zh)


# --- proposing -------------------------------------------------------------------------------------


def propose(
    session: Session,
    *,
    loan_id: int,
    kind: str,
    requested_by: int,
    months: int = 0,
    new_term: int = 0,
    settlement_fen: int = 0,
    valid_until: date | None = None,
    reason: str = "",
    request_id: int | None = None,
) -> HardshipArrangement:
    """Record a proposal (one open arrangement per loan); refused now if it could not be approved today."""
    if kind not in HardshipKind.ALL:
        raise InvalidInput.saying(f"纾困方式须为 {' | '.join(HardshipKind.ALL)} 之一",
                                  f"kind must be one of {', '.join(HardshipKind.ALL)}")
    loan = get_loan(session, loan_id, lock=True)
    today = business_date(session)
    if loan.status not in LoanStatus.OPEN:
        raise LoanNotOpen(str(loan_id))
    if open_arrangement(session, loan_id) is not None:
        raise _refuse("该贷款已有待审批或生效中的纾困方案", "the loan already has an open hardship arrangement")
    arr = HardshipArrangement(
        loan_id=loan_id,
        kind=kind,
        status=HardshipStatus.PROPOSED,
        months=months if kind == HardshipKind.HOLIDAY else 0,
        new_term=new_term if kind == HardshipKind.RESTRUCTURE else 0,
        settlement_fen=settlement_fen if kind == HardshipKind.SETTLEMENT else 0,
        valid_until=None,
        paid_fen=0,
        discount_fen=0,
        reason=reason.strip()[:200],
        requested_by=requested_by,
        request_id=request_id,
    )
    if kind == HardshipKind.SETTLEMENT:
        arr.valid_until = valid_until or today + timedelta(days=SETTLEMENT_DAYS)
        _check_settlement(loan, arr, today)
    else:
        arr.apr = preview(session, loan, arr, today).apr
    session.add(arr)
    session.flush()
    _tell(session, arr)
    return arr


def preview(session: Session, loan: Loan, arr: HardshipArrangement, today: date | None = None) -> Plan:
    """The new schedule the arrangement would give the loan today; refused as it would be on approval."""
    today = today or business_date(session)
    rows = installments(session, loan.id)
    if arr.kind == HardshipKind.HOLIDAY:
        if not 1 <= arr.months <= MAX_HOLIDAY_MONTHS:
            raise InvalidInput.saying(f"延期月数须为 1-{MAX_HOLIDAY_MONTHS}", f"months must be 1-{MAX_HOLIDAY_MONTHS}")
        if _in_arrears(loan, rows):
            raise _refuse(
                "逾期贷款不能延期，请先还清逾期款项或申请重组", "a loan in arrears cannot take a payment holiday"
            )
        if loan.cur_due_date is None:
            raise _refuse("没有可延期的未到期分期", "no installment is left to defer")
        plan = holiday_plan(loan, rows, arr.months, today)
    elif arr.kind == HardshipKind.REAGE:
        if not any(r.status == InstallmentStatus.DUE for r in rows):
            raise _refuse("贷款没有逾期，无需再账龄", "the loan is not in arrears")
        if not good_payment_run(session, loan, rows, today):
            raise _refuse(
                f"需连续 {GOOD_PAYMENTS_FOR_REAGE} 期按时足额还款后才能再账龄",
                f"re-ageing needs {GOOD_PAYMENTS_FOR_REAGE} consecutive installments paid in full on time",
            )
        if _reaged_within(session, loan.id, today, exclude=arr.id):
            raise _refuse("一年内只能再账龄一次", "a loan can be re-aged at most once a year")
        plan = reage_plan(loan, rows, today)
    else:
        left = remaining_periods(loan, rows)
        if not left < arr.new_term <= MAX_TERM:
            raise InvalidInput(
                f"new_term must be longer than the {left} periods left and at most {MAX_TERM}",
                zh=f"新期数须多于剩余的 {left} 期且不超过 {MAX_TERM} 期",
            )
        plan = restructure_plan(loan, rows, arr.new_term, today)
    cap = get_settings().apr_cap
    if rate_as_disclosed(plan.apr) > cap:
        raise AprAboveCap(apr=fmt_percent(plan.apr), cap=fmt_percent(cap))
    if plan.principal_fen != loan.principal_outstanding_fen:
        raise InvariantViolation(
            f"loan {loan.id}: plan principal {plan.principal_fen} ≠ {loan.principal_outstanding_fen}"
        )
    return plan


def _in_arrears(loan: Loan, rows: list[Installment]) -> bool:
    return (
        loan.oldest_unpaid_due is not None
        or loan.penalty_receivable_fen > 0
        or any(r.status == InstallmentStatus.DUE for r in rows)
    )


def good_payment_run(session: Session, loan: Loan, rows: list[Installment], today: date) -> bool:
    """The last GOOD_PAYMENTS_FOR_REAGE installments that fell due were each met on time: the payments
    received in the month up to its due date (after the previous due date) at least its amount."""
    fallen = sorted((r for r in rows if r.due_date <= today and r.status != InstallmentStatus.CANCELLED),
                    key=lambda r: r.due_date)
    if len(fallen) < GOOD_PAYMENTS_FOR_REAGE:
        return False
    paid = [
        (r.business_date, r.amount_fen)
        for r in session.scalars(select(Repayment).where(Repayment.loan_id == loan.id))
    ]
    dues = [loan.start_date] + [r.due_date for r in fallen]
    for i in range(len(dues) - GOOD_PAYMENTS_FOR_REAGE, len(dues)):
        row = fallen[i - 1]
        got = sum(a for d, a in paid if dues[i - 1] < d <= dues[i])
        if got < row.principal_fen + row.interest_fen + row.fee_fen:
            return False
    return True


def _reaged_within(session: Session, loan_id: int, today: date, exclude: int | None) -> bool:
    q = select(HardshipArrangement.id).where(
        HardshipArrangement.loan_id == loan_id,
        HardshipArrangement.kind == HardshipKind.REAGE,
        HardshipArrangement.status == HardshipStatus.APPROVED,
        HardshipArrangement.decided_on > today - timedelta(days=REAGE_INTERVAL_DAYS),
    )
    return any(i != exclude for i in session.scalars(q))


def _check_settlement(loan: Loan, arr: HardshipArrangement, today: date) -> None:
    owed = owed_fen(loan)
    if not 0 < arr.settlement_fen < owed:
        raise InvalidInput(
            f"the settlement amount must be above zero and below the {owed} fen owed",
            zh=f"和解金额须大于 0 且小于当前欠款 {owed / 100:.2f} 元",
        )
    if arr.valid_until is None or arr.valid_until < today:
        raise InvalidInput("valid_until must be today or later", zh="有效期须不早于今天")


def open_arrangement(session: Session, loan_id: int) -> HardshipArrangement | None:
    return session.scalar(
        select(HardshipArrangement).where(
            HardshipArrangement.loan_id == loan_id,
            HardshipArrangement.status.in_(HardshipStatus.OPEN),
            # An approved holiday, re-ageing or restructure is done; only a settlement offer stays open.
            (HardshipArrangement.status == HardshipStatus.PROPOSED)
            | (HardshipArrangement.kind == HardshipKind.SETTLEMENT),
        )
    )


def arrangements(
    session: Session, *, loan_id: int | None = None, status: str | None = None
) -> list[HardshipArrangement]:
    q = select(HardshipArrangement).order_by(HardshipArrangement.id.desc()).limit(500)
    if loan_id is not None:
        q = q.where(HardshipArrangement.loan_id == loan_id)
    if status:
        q = q.where(HardshipArrangement.status == status)
    return list(session.scalars(q))


def in_force(session: Session, loan_id: int) -> HardshipArrangement | None:
    """The arrangement that governs the loan as its shopper sees it: the newest approved or settled one."""
    return next((a for a in arrangements(session, loan_id=loan_id)
                 if a.status in (HardshipStatus.APPROVED, HardshipStatus.SETTLED)), None)


def left_to_pay_fen(arr: HardshipArrangement) -> int:
    """What the shopper still pays to reach a settlement offer's agreed amount (0 once reached)."""
    return max(0, arr.settlement_fen - arr.paid_fen)


def get_arrangement(session: Session, arrangement_id: int, *, lock: bool = False) -> HardshipArrangement:
    q = select(HardshipArrangement).where(HardshipArrangement.id == arrangement_id)
    arr = session.scalar(q.with_for_update() if lock else q)
    if arr is None:
        raise NotFound.saying(f"纾困方案 {arrangement_id}", f"hardship arrangement {arrangement_id}")
    return arr


# --- deciding --------------------------------------------------------------------------------------


def _decide(session: Session, arrangement_id: int, user_id: int) -> HardshipArrangement:
    arr = get_arrangement(session, arrangement_id, lock=True)
    if arr.status != HardshipStatus.PROPOSED:
        raise Conflict.saying(f"纾困方案 {arrangement_id} 已处理，不再等待审批",
                              f"hardship arrangement {arrangement_id} is no longer awaiting approval ({arr.status})")
    if arr.requested_by == user_id:
        raise SameApprover()
    arr.decided_by, arr.decided_at, arr.decided_on = user_id, utcnow(), business_date(session)
    return arr


def reject(session: Session, arrangement_id: int, *, user_id: int) -> HardshipArrangement:
    arr = _decide(session, arrangement_id, user_id)
    arr.status = HardshipStatus.REJECTED
    session.flush()
    _tell(session, arr)
    return arr


def approve(session: Session, arrangement_id: int, *, user_id: int) -> HardshipArrangement:
    """Approve (a second person) and apply: the new schedule and its entry, or the settlement offer opened."""
    arr = _decide(session, arrangement_id, user_id)
    loan = get_loan(session, arr.loan_id, lock=True)
    today = business_date(session)
    if loan.status not in LoanStatus.OPEN:
        raise LoanNotOpen(str(loan.id))
    verify_against_ledger(session, loan)
    arr.status = HardshipStatus.APPROVED
    if arr.kind == HardshipKind.SETTLEMENT:
        _check_settlement(loan, arr, today)
        session.flush()
        _tell(session, arr)
        return arr
    plan = preview(session, loan, arr, today)
    rows = installments(session, loan.id)
    entry = _post_plan_entry(session, loan, arr, plan, today)
    arr.entry_id = entry
    _apply_rows(session, loan, rows, plan, today)
    arr.apr = plan.apr.quantize(Decimal("1e-10"))
    loan.apr = arr.apr
    loan.cap_headroom_ppb = cap_headroom_ppb(get_settings().apr_cap, plan.apr)
    refresh_delinquency(loan, installments(session, loan.id))
    verify_against_ledger(session, loan)
    session.flush()
    _tell(session, arr)
    return arr


def _post_plan_entry(session: Session, loan: Loan, arr: HardshipArrangement, plan: Plan, today: date) -> int | None:
    """Take the rescheduled interest and fee out of the books (COB accrues them again in their new
    periods) and waive unpaid penalty; None when nothing moves."""
    lines: list[Line] = []
    parts = []
    if plan.reverse_accrued:
        parts += [
            (Account.INTEREST_INCOME, Account.INTEREST_ACCRUED, "interest_accrued_fen"),
            (Account.FEE_INCOME, Account.FEE_ACCRUED, "fee_accrued_fen"),
        ]
    if plan.reverse_receivable:
        parts += [
            (Account.INTEREST_INCOME, Account.INTEREST_RECEIVABLE, "interest_receivable_fen"),
            (Account.FEE_INCOME, Account.FEE_RECEIVABLE, "fee_receivable_fen"),
            (Account.HARDSHIP_WAIVER, Account.PENALTY_RECEIVABLE, "penalty_receivable_fen"),
        ]
    for debit, credit, column in parts:
        fen = getattr(loan, column)
        if fen:
            lines += [Line.dr(debit, fen, loan_id=loan.id), Line.cr(credit, fen)]
            setattr(loan, column, 0)
    if not lines:
        return None
    entry = post_entry(
        session,
        reason=Reason.HARDSHIP,
        lines=merge_lines(lines),
        idempotency_key=f"hardship:{arr.id}:{arr.kind}",
        business_date=today,
        loan_id=loan.id,
        memo=f"hardship {arr.kind} #{arr.id}",
    )
    return int(entry.id)


def _apply_rows(session: Session, loan: Loan, rows: list[Installment], plan: Plan, today: date) -> None:
    """Write the plan into the installment table: past-due rows closed at what was paid on them (if the
    plan says so), every plan row written over the row of its period (kept paid parts) or added."""
    by_period = {r.period: r for r in rows}
    if plan.settle_due:
        for r in rows:
            if r.status == InstallmentStatus.DUE:
                r.principal_fen, r.interest_fen, r.fee_fen = r.paid_principal_fen, r.paid_interest_fen, r.paid_fee_fen
                paid = r.paid_principal_fen + r.paid_interest_fen + r.paid_fee_fen
                r.status = InstallmentStatus.PAID if paid else InstallmentStatus.CANCELLED
                r.paid_on = today if paid else None
    for nr in plan.rows:
        found = by_period.get(nr.period)
        if found is None:
            r = Installment(
                loan_id=loan.id, period=nr.period, due_date=nr.due_date, principal_fen=0, interest_fen=0, fee_fen=0,
                paid_principal_fen=0, paid_interest_fen=0, paid_fee_fen=0, late_fee_charged=False,
            )
            session.add(r)
        elif found.status == InstallmentStatus.CANCELLED and not (
            found.paid_principal_fen or found.paid_interest_fen or found.paid_fee_fen
        ):
            r = found  # a period an early repayment had cut off: used again
            r.late_fee_charged, r.paid_on = False, None
        elif found.status == InstallmentStatus.PENDING:
            r = found
        else:
            raise InvariantViolation(f"loan {loan.id}: period {found.period} is {found.status}, cannot be rescheduled")
        r.status, r.due_date = InstallmentStatus.PENDING, nr.due_date
        r.principal_fen = r.paid_principal_fen + nr.principal
        r.interest_fen = r.paid_interest_fen + nr.interest
        r.fee_fen = r.paid_fee_fen + nr.fee
    session.flush()
    first = min(plan.rows, key=lambda x: x.period)
    if loan.cur_due_date is None or plan.restart_today:
        loan.cur_period = first.period
        loan.cur_period_start = today if plan.restart_today else loan.cur_period_start
    current = next(x for x in plan.rows if x.period == loan.cur_period)
    loan.cur_due_date = current.due_date
    loan.cur_interest_fen, loan.cur_fee_fen = current.interest, current.fee
    loan.term = max(plan.term, loan.term if plan.kind == HardshipKind.REAGE else 0)


# --- settlement ------------------------------------------------------------------------------------


def open_settlement(session: Session, loan_id: int, today: date) -> HardshipArrangement | None:
    """The loan's approved settlement offer still valid today (an expired one is marked so)."""
    arr = session.scalar(
        select(HardshipArrangement).where(
            HardshipArrangement.loan_id == loan_id,
            HardshipArrangement.kind == HardshipKind.SETTLEMENT,
            HardshipArrangement.status == HardshipStatus.APPROVED,
        )
    )
    if arr is not None and arr.valid_until is not None and arr.valid_until < today:
        arr.status = HardshipStatus.EXPIRED
        _tell(session, arr)
        return None
    return arr


def settle(
    session: Session, loan: Loan, rows: list[Installment], arr: HardshipArrangement, rep: Repayment, cash: Account
) -> list[Line] | None:
    """A payment on a loan with an open settlement offer. Short of the amount agreed: None (applied as a
    usual payment, counted towards the offer). Reaching it: the lines that clear every receivable with
    the cash and the discount (Dr hardship_waiver), anything paid beyond what is owed to the credit
    balance; the loan closes paid off, the offer settled."""
    amount = rep.amount_fen
    if arr.paid_fen + amount < arr.settlement_fen:
        arr.paid_fen += amount
        return None
    owed = owed_fen(loan)
    discount = max(0, owed - amount)
    lines = [Line.dr(cash, amount)]
    if discount:
        lines.append(Line.dr(Account.HARDSHIP_WAIVER, discount, loan_id=loan.id))
    left = amount
    for account, column, field in (
        (Account.PENALTY_RECEIVABLE, "penalty_receivable_fen", "penalty_fen"),
        (Account.FEE_RECEIVABLE, "fee_receivable_fen", "fee_fen"),
        (Account.FEE_ACCRUED, "fee_accrued_fen", "fee_fen"),
        (Account.INTEREST_RECEIVABLE, "interest_receivable_fen", "interest_fen"),
        (Account.INTEREST_ACCRUED, "interest_accrued_fen", "interest_fen"),
        (Account.PRINCIPAL_RECEIVABLE, "principal_outstanding_fen", "principal_fen"),
    ):
        fen = getattr(loan, column)
        if fen:
            lines.append(Line.cr(account, fen))
            cash_part = min(fen, left)
            setattr(rep, field, getattr(rep, field) + cash_part)
            left -= cash_part
    rep.credit_fen = left  # paid beyond what was owed: the shopper's, refundable
    arr.paid_fen += amount
    arr.discount_fen = discount
    arr.status = HardshipStatus.SETTLED
    for column in ("penalty_receivable_fen", "fee_receivable_fen", "fee_accrued_fen", "interest_receivable_fen",
                   "interest_accrued_fen", "principal_outstanding_fen"):
        setattr(loan, column, 0)
    refresh_delinquency(loan, rows)
    close_if_settled(loan, rows, rep.business_date)
    if loan.status != LoanStatus.PAID_OFF:
        raise InvariantViolation(f"loan {loan.id}: still open after its settlement")
    _tell(session, arr)
    for hook in _SETTLED_HOOKS:
        hook(session, loan.id, rep.business_date)
    return lines
