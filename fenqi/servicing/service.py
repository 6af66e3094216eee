"""Loan servicing: booking, repayment, early repayment, credit balances, refunds, write-off.

The interface other domains call::

    from fenqi.servicing.service import book_loan, apply_repayment

    loan = book_loan(session, external_ref=contract_no, product_code="EI-12", financed_fen=499_900, term=12)
    result = apply_repayment(session, loan_id=loan.id, amount_fen=44_417, payment_ref=out_trade_no,
                             channel="alipay")

Every change of a loan's money figures is made together with the journal entry that moves the same
amount, in the caller's transaction (services never commit). Repayments are idempotent by payment_ref.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.errors import Conflict, InvalidInput, NotFound
from fenqi.kit.money import fmt_percent, from_fen, rate_as_disclosed, to_fen
from fenqi.kit.settings import get_settings
from fenqi.ledger import Account, Line, Reason, cash_account, loan_balances, post_entry
from fenqi.ledger.models import JournalEntry, JournalLine
from fenqi.pricing.apr import apr as compute_apr
from fenqi.pricing.dates import add_months
from fenqi.pricing.errors import AprAboveCap
from fenqi.pricing.models import Product
from fenqi.pricing.schedule import Method, build_schedule
from fenqi.pricing.service import get_product
from fenqi.servicing.allocation import Allocation, Owed, allocate
from fenqi.servicing.models import Installment, InstallmentStatus, Loan, LoanStatus, Repayment
from fenqi.servicing.rules import accrual_target, bucket_for, cap_headroom_ppb, days_past_due, rate_ppb

Purpose = Literal["installment", "prepayment", "payoff"]
PrepaymentChoice = Literal["shorter_term", "lower_installment"]
PURPOSES: tuple[str, ...] = ("installment", "prepayment", "payoff")
CHOICES: tuple[str, ...] = ("shorter_term", "lower_installment")


class LoanNotOpen(Conflict):
    code = "loan_not_open"
    zh = "贷款已结清、取消或核销：{detail}"
    en = "The loan is paid off, cancelled or written off: {detail}"


class InvariantViolation(RuntimeError):
    """Servicing found its own figures inconsistent (a bug): raised explicitly, never asserted."""


class LedgerMismatch(InvariantViolation):
    """A loan's stored figures disagree with its ledger: a bug, never the caller's fault. Raised (not
    asserted, so it holds under `python -O`) inside the transaction that caused it, which then rolls back."""

    def __init__(self, loan_id: int, differences: dict[str, tuple[int, int]]) -> None:
        self.loan_id, self.differences = loan_id, differences
        super().__init__(f"loan {loan_id}: stored figures differ from the ledger (stored, ledger): {differences}")


# Stored loan column ↔ its ledger account (the loan's balance on the account's normal side).
_STORED: tuple[tuple[str, Account], ...] = (
    ("principal_outstanding_fen", Account.PRINCIPAL_RECEIVABLE),
    ("interest_accrued_fen", Account.INTEREST_ACCRUED),
    ("interest_receivable_fen", Account.INTEREST_RECEIVABLE),
    ("fee_accrued_fen", Account.FEE_ACCRUED),
    ("fee_receivable_fen", Account.FEE_RECEIVABLE),
    ("penalty_receivable_fen", Account.PENALTY_RECEIVABLE),
    ("credit_balance_fen", Account.CUSTOMER_CREDIT),
)


def verify_against_ledger(session: Session, loan: Loan) -> None:
    """Check the loan's stored balances against its ledger in the current transaction (one grouped
    query on the loan's journal lines); raise LedgerMismatch on any difference or negative figure."""
    session.flush()
    ledger = loan_balances(session, loan.id)
    diffs = {
        column: (getattr(loan, column), ledger[account])
        for column, account in _STORED
        if getattr(loan, column) != ledger[account] or getattr(loan, column) < 0
    }
    if diffs:
        raise LedgerMismatch(loan.id, diffs)


# --- booking ---------------------------------------------------------------------------------------


def book_loan(
    session: Session,
    *,
    external_ref: str,
    product_code: str,
    financed_fen: int,
    term: int,
    start_date: date | None = None,
    price_fen: int | None = None,
    down_payment_fen: int = 0,
    annual_rate: Decimal | None = None,
    fee_rate: Decimal | None = None,
    merchant_id: int | None = None,
    funder_id: int | None = None,
    customer_id: int | None = None,
) -> Loan:
    """Book a loan from a product and its pricing schedule; idempotent by `external_ref`.

    Posts Dr principal_receivable / Cr merchant_payable for the financed amount (the disbursement to
    the merchant, the down payment and any subsidy are posted by funding and payments against
    merchant_payable). `annual_rate`/`fee_rate` override the product's (risk-based pricing); the plan's
    APR must be within settings.apr_cap. `start_date` defaults to, and may not be before, the business date.
    """
    if not external_ref or len(external_ref) > 80:
        raise InvalidInput("external_ref must be 1-80 characters")
    existing = session.scalar(select(Loan).where(Loan.external_ref == external_ref))
    if existing is not None:
        if (existing.financed_fen, existing.term) != (financed_fen, term):
            raise Conflict(f"loan {external_ref} already booked with other terms")
        return existing
    if not isinstance(financed_fen, int) or financed_fen <= 0:
        raise InvalidInput("financed_fen must be a positive integer number of fen")
    if down_payment_fen < 0:
        raise InvalidInput("down_payment_fen must not be negative")
    product = get_product(session, product_code)
    if term not in product.terms:
        raise InvalidInput(f"term {term} is not offered by product {product_code} ({product.terms})")
    today = business_date(session)
    start = start_date or today
    if start < today:
        raise InvalidInput(f"start date {start} is before the business date {today}")
    method = Method(product.method)
    rate = product.annual_rate if annual_rate is None else Decimal(annual_rate)
    fees = product.fee_rate if fee_rate is None else Decimal(fee_rate)
    rows = build_schedule(method, from_fen(financed_fen), term, start, rate, fees)
    plan_apr = compute_apr(from_fen(financed_fen), [r.total for r in rows], rate / 12 if rate > 0 else None)
    cap = get_settings().apr_cap
    if rate_as_disclosed(plan_apr) > cap:
        raise AprAboveCap(apr=fmt_percent(plan_apr), cap=fmt_percent(cap))

    first = rows[0]
    loan = Loan(
        external_ref=external_ref,
        product_id=product.id,
        method=method.value,
        financed_fen=financed_fen,
        price_fen=price_fen if price_fen is not None else financed_fen + down_payment_fen,
        down_payment_fen=down_payment_fen,
        term=term,
        annual_rate=rate,
        fee_rate=fees,
        apr=plan_apr.quantize(Decimal("1e-10")),
        start_date=start,
        booked_on=today,
        merchant_id=merchant_id,
        funder_id=funder_id,
        customer_id=customer_id,
        status=LoanStatus.ACTIVE,
        principal_outstanding_fen=financed_fen,
        cob_date=today - timedelta(days=1),
        cur_period=1,
        cur_period_start=start,
        cur_due_date=first.due_date,
        cur_interest_fen=to_fen(first.interest),
        cur_fee_fen=to_fen(first.fee),
        grace_days=product.grace_days,
        penalty_rate_ppb=rate_ppb(product.penalty_daily_rate),
        late_fee_fen=product.late_fee_fen,
        cap_headroom_ppb=cap_headroom_ppb(cap, plan_apr),
    )
    session.add(loan)
    session.flush()
    session.add_all(
        Installment(
            loan_id=loan.id,
            period=r.period,
            due_date=r.due_date,
            principal_fen=to_fen(r.principal),
            interest_fen=to_fen(r.interest),
            fee_fen=to_fen(r.fee),
        )
        for r in rows
    )
    post_entry(
        session,
        reason=Reason.LOAN_BOOKED,
        idempotency_key=f"loan:{external_ref}:booked",
        business_date=today,
        loan_id=loan.id,
        lines=[Line.dr(Account.PRINCIPAL_RECEIVABLE, financed_fen), Line.cr(Account.MERCHANT_PAYABLE, financed_fen)],
    )
    session.flush()
    return loan


# --- reading ---------------------------------------------------------------------------------------


def get_loan(session: Session, loan_id: int, *, lock: bool = False) -> Loan:
    q = select(Loan).where(Loan.id == loan_id).execution_options(populate_existing=True)
    if lock:
        q = q.with_for_update()
    loan = session.scalar(q)
    if loan is None:
        raise NotFound(f"loan {loan_id}")
    return loan


def installments(session: Session, loan_id: int) -> list[Installment]:
    return list(
        session.scalars(
            select(Installment)
            .where(Installment.loan_id == loan_id)
            .order_by(Installment.period)
            .execution_options(populate_existing=True)
        )
    )


def repayments(session: Session, loan_id: int) -> list[Repayment]:
    """A loan's payments, oldest first (the shopper's payment history)."""
    return list(session.scalars(select(Repayment).where(Repayment.loan_id == loan_id).order_by(Repayment.id)))


def amount_due(session: Session, loan_id: int, on: date | None = None) -> int:
    """What the shopper must pay on `on` (default today) to be up to date: everything past due, the
    installments falling due by then, and penalties so far, less the credit balance (never negative)."""
    loan = get_loan(session, loan_id)
    if loan.status not in LoanStatus.OPEN:
        return 0
    on = on or business_date(session)
    owed = loan.penalty_receivable_fen + loan.interest_receivable_fen + loan.fee_receivable_fen
    for r in installments(session, loan_id):
        if r.status == InstallmentStatus.DUE:
            owed += r.principal_fen - r.paid_principal_fen
        elif r.status == InstallmentStatus.PENDING and r.due_date <= on:
            owed += (r.principal_fen - r.paid_principal_fen) + (r.interest_fen - r.paid_interest_fen)
            owed += r.fee_fen - r.paid_fee_fen
    return max(0, owed - loan.credit_balance_fen)


def product_of(session: Session, loan: Loan) -> Product:
    product = session.get(Product, loan.product_id)
    if product is None:  # the foreign key makes this impossible; say so rather than assert
        raise NotFound(f"product {loan.product_id} of loan {loan.id}")
    return product


def _owed(rows: Sequence[Installment]) -> list[Owed]:
    return [
        Owed(
            r.period,
            r.fee_fen - r.paid_fee_fen,
            r.interest_fen - r.paid_interest_fen,
            r.principal_fen - r.paid_principal_fen,
        )
        for r in sorted(rows, key=lambda r: (r.due_date, r.period))
        if r.status == InstallmentStatus.DUE
    ]


def refresh_delinquency(loan: Loan, rows: Sequence[Installment]) -> None:
    """oldest_unpaid_due, dpd (as of the last closed date), bucket and active/overdue status.

    Penalty ages like any receivable: while some is unpaid it keeps the due date of the arrears it was
    charged on (the loan's oldest unpaid due date when the penalty was charged), even once those
    installments are paid, so a loan owing only penalty stays overdue, ages and is written off.
    """
    due = [r.due_date for r in rows if r.status == InstallmentStatus.DUE]
    if loan.penalty_receivable_fen > 0 and loan.oldest_unpaid_due is not None:
        due.append(loan.oldest_unpaid_due)
    loan.oldest_unpaid_due = min(due) if due else None
    loan.dpd = days_past_due(loan.cob_date, loan.oldest_unpaid_due)
    loan.bucket = bucket_for(loan.dpd, get_settings().delinquency_buckets)
    if loan.status in LoanStatus.OPEN:
        loan.status = LoanStatus.OVERDUE if loan.dpd > 0 else LoanStatus.ACTIVE


def _apply_allocation(loan: Loan, rows: Sequence[Installment], alloc: Allocation, today: date) -> list[Line]:
    """Record an allocation on the installments and the loan; the credit lines of its entry."""
    by_period = {r.period: r for r in rows}
    for period, fen in alloc.fee.items():
        by_period[period].paid_fee_fen += fen
    for period, fen in alloc.interest.items():
        by_period[period].paid_interest_fen += fen
    for period, fen in alloc.principal.items():
        by_period[period].paid_principal_fen += fen
    for r in rows:
        if r.status == InstallmentStatus.DUE and (r.paid_principal_fen, r.paid_interest_fen, r.paid_fee_fen) == (
            r.principal_fen,
            r.interest_fen,
            r.fee_fen,
        ):
            r.status, r.paid_on = InstallmentStatus.PAID, today
    totals = {c: alloc.total(c) for c in ("penalty", "fee", "interest", "principal")}
    loan.penalty_receivable_fen -= totals["penalty"]
    loan.fee_receivable_fen -= totals["fee"]
    loan.interest_receivable_fen -= totals["interest"]
    loan.principal_outstanding_fen -= totals["principal"]
    refresh_delinquency(loan, rows)
    accounts = {
        "penalty": Account.PENALTY_RECEIVABLE,
        "fee": Account.FEE_RECEIVABLE,
        "interest": Account.INTEREST_RECEIVABLE,
        "principal": Account.PRINCIPAL_RECEIVABLE,
    }
    return [Line.cr(accounts[c], fen) for c, fen in totals.items() if fen]


def _close_if_settled(loan: Loan, rows: Sequence[Installment], today: date) -> None:
    owes = (
        loan.principal_outstanding_fen
        + loan.interest_receivable_fen
        + loan.interest_accrued_fen
        + loan.fee_receivable_fen
        + loan.fee_accrued_fen
        + loan.penalty_receivable_fen
    )
    if loan.status in LoanStatus.OPEN and owes == 0:
        loan.status, loan.closed_on = LoanStatus.PAID_OFF, today
        loan.cur_due_date, loan.cur_interest_fen, loan.cur_fee_fen = None, 0, 0
        loan.dpd, loan.bucket, loan.oldest_unpaid_due = 0, bucket_for(0, get_settings().delinquency_buckets), None
        for r in rows:
            if r.status == InstallmentStatus.PENDING:
                r.status = InstallmentStatus.CANCELLED
                r.principal_fen, r.interest_fen, r.fee_fen = r.paid_principal_fen, r.paid_interest_fen, r.paid_fee_fen


# --- repayment -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepaymentResult:
    repayment: Repayment
    loan: Loan
    replayed: bool  # True when the payment_ref had already been applied

    def to_json(self) -> dict[str, object]:
        from fenqi.servicing.views import repayment_json

        return repayment_json(self.repayment, self.loan, self.replayed)


def apply_repayment(
    session: Session,
    *,
    loan_id: int,
    amount_fen: int,
    payment_ref: str,
    channel: str = "alipay",
    purpose: str = "installment",
    prepayment_choice: str = "shorter_term",
) -> RepaymentResult:
    """Apply a payment received through `channel` to a loan, exactly once per `payment_ref`.

    purpose="installment": the waterfall over what is past due; the rest becomes the shopper's credit
    balance (applied to the next installment on its due date, or refundable).
    purpose="prepayment": the same, then interest and fee to date, the prepayment fee and as much
    principal as the rest covers; the remaining schedule is re-amortized for a shorter term or a lower
    installment (`prepayment_choice`). Enough to pay everything closes the loan ("payoff" is an alias).
    A written-off loan's payments are recoveries; a closed loan's go to the credit balance (refundable).
    """
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise InvalidInput("amount must be a positive number of fen")
    if not payment_ref or len(payment_ref) > 80:
        raise InvalidInput("payment_ref must be 1-80 characters")
    if purpose not in PURPOSES:
        raise InvalidInput(f"purpose must be one of {', '.join(PURPOSES)}")
    if prepayment_choice not in CHOICES:
        raise InvalidInput(f"prepayment_choice must be one of {', '.join(CHOICES)}")
    cash = cash_account(channel)
    loan = get_loan(session, loan_id, lock=True)  # serializes payments on one loan (no lost update)
    done = session.scalar(select(Repayment).where(Repayment.payment_ref == payment_ref))
    if done is not None:
        if (done.loan_id, done.amount_fen) != (loan_id, amount_fen):
            raise Conflict(f"payment {payment_ref} was already applied to another loan or amount")
        return RepaymentResult(done, loan, True)
    verify_against_ledger(session, loan)  # decide on figures that agree with the books

    today = business_date(session)
    rows = installments(session, loan_id)
    rep = Repayment(
        payment_ref=payment_ref,
        loan_id=loan_id,
        channel=channel,
        purpose=purpose,
        amount_fen=amount_fen,
        business_date=today,
        penalty_fen=0,
        fee_fen=0,
        interest_fen=0,
        principal_fen=0,
        prepayment_fee_fen=0,
        credit_fen=0,
        recovery_fen=0,
    )
    lines = [Line.dr(cash, amount_fen)]
    reason = Reason.REPAYMENT
    if loan.status == LoanStatus.WRITTEN_OFF:
        reason, rep.recovery_fen = Reason.RECOVERY, amount_fen
        lines.append(Line.cr(Account.RECOVERY_INCOME, amount_fen, loan_id=loan.id))
    elif loan.status not in LoanStatus.OPEN:
        rep.credit_fen = amount_fen
    else:
        early = purpose in ("prepayment", "payoff")
        if early:
            # On a due date the installment falling due today is paid as due (no prepayment fee on its
            # principal), as the payoff quote for today counts it; the rest is prepaid from tomorrow's period.
            _fall_due_today(session, loan, rows, today, payment_ref)
        # Early repayment draws on the shopper's credit balance too (a payoff quote deducts it).
        held = loan.credit_balance_fen if early else 0
        order = product_of(session, loan).allocation_order
        alloc = allocate(amount_fen + held, loan.penalty_receivable_fen, _owed(rows), order)
        lines += _apply_allocation(loan, rows, alloc, today)
        rep.penalty_fen, rep.fee_fen = alloc.penalty, alloc.total("fee")
        rep.interest_fen, rep.principal_fen = alloc.total("interest"), alloc.total("principal")
        left = alloc.credit
        if left and early and loan.oldest_unpaid_due is None:
            reason = Reason.PREPAYMENT
            left, extra = _prepay(session, loan, rows, left, today, prepayment_choice, rep)
            lines += extra
        rep.credit_fen = left - held  # the change of the credit balance: negative when it was used
        _close_if_settled(loan, rows, today)
    if rep.credit_fen > 0:
        lines.append(Line.cr(Account.CUSTOMER_CREDIT, rep.credit_fen))
    elif rep.credit_fen < 0:
        lines.append(Line.dr(Account.CUSTOMER_CREDIT, -rep.credit_fen))
    loan.credit_balance_fen += rep.credit_fen
    entry = post_entry(
        session,
        reason=reason,
        lines=_merge(lines),
        idempotency_key=f"repayment:{payment_ref}",
        business_date=today,
        loan_id=loan.id,
        payment_ref=payment_ref,
    )
    rep.entry_id = entry.id
    session.add(rep)
    verify_against_ledger(session, loan)
    return RepaymentResult(rep, loan, False)


def _fall_due_today(session: Session, loan: Loan, rows: list[Installment], today: date, payment_ref: str) -> None:
    """What close-of-business does tonight to a period ending today, done now for this loan: the rest of
    the period's interest and fee accrues, moves to the receivable, the installment is due, the loan
    moves on to its next period. Close-of-business then finds nothing left to do for that period."""
    if loan.cur_due_date != today or loan.cob_date >= today:
        return
    current = next((r for r in rows if r.period == loan.cur_period and r.status == InstallmentStatus.PENDING), None)
    if current is None:
        return
    lines: list[Line] = []
    for accrued, income, receivable, owed, got in (
        (
            Account.INTEREST_ACCRUED,
            Account.INTEREST_INCOME,
            Account.INTEREST_RECEIVABLE,
            loan.cur_interest_fen,
            loan.interest_accrued_fen,
        ),
        (Account.FEE_ACCRUED, Account.FEE_INCOME, Account.FEE_RECEIVABLE, loan.cur_fee_fen, loan.fee_accrued_fen),
    ):
        if owed - got > 0:
            lines += [Line.dr(accrued, owed - got), Line.cr(income, owed - got, loan_id=loan.id)]
        if owed:
            lines += [Line.dr(receivable, owed), Line.cr(accrued, owed)]
    if lines:
        post_entry(
            session,
            reason=Reason.INSTALLMENT_DUE,
            lines=_merge(lines),
            idempotency_key=f"loan:{loan.id}:due:{current.period}:{today.isoformat()}",
            business_date=today,
            loan_id=loan.id,
            payment_ref=payment_ref,
        )
    loan.interest_receivable_fen += loan.cur_interest_fen
    loan.fee_receivable_fen += loan.cur_fee_fen
    loan.interest_accrued_fen = loan.fee_accrued_fen = 0
    settled = (current.paid_principal_fen, current.paid_interest_fen, current.paid_fee_fen) == (
        current.principal_fen,
        current.interest_fen,
        current.fee_fen,
    )
    current.status = InstallmentStatus.PAID if settled else InstallmentStatus.DUE
    current.paid_on = today if settled else None
    nxt = next((r for r in rows if r.period == loan.cur_period + 1 and r.status == InstallmentStatus.PENDING), None)
    loan.cur_period += 1
    loan.cur_period_start = today
    loan.cur_due_date = nxt.due_date if nxt else None
    loan.cur_interest_fen = nxt.interest_fen - nxt.paid_interest_fen if nxt else 0
    loan.cur_fee_fen = nxt.fee_fen - nxt.paid_fee_fen if nxt else 0
    refresh_delinquency(loan, rows)


def _merge(lines: Sequence[Line]) -> list[Line]:
    """One line per (account, loan, side): the same account credited twice in one entry becomes one line."""
    merged: dict[tuple[str, int | None, bool], int] = {}
    for x in lines:
        k = (str(x.account), x.loan_id, x.debit > 0)
        merged[k] = merged.get(k, 0) + x.debit + x.credit
    return [
        Line(a, debit=fen if is_debit else 0, credit=0 if is_debit else fen, loan_id=lid)
        for (a, lid, is_debit), fen in merged.items()
        if fen
    ]


# --- early repayment -------------------------------------------------------------------------------


def _to_date(loan: Loan, product: Product, on: date) -> tuple[int, int]:
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


def _prepay(
    session: Session, loan: Loan, rows: list[Installment], amount: int, today: date, choice: str, rep: Repayment
) -> tuple[int, list[Line]]:
    """Early repayment with nothing past due: returns what is left of `amount` and the entry's lines."""
    product = product_of(session, loan)
    lines: list[Line] = []
    interest, fee = _to_date(loan, product, today)
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

    rate = product.prepayment_fee_rate
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
    loan: Loan, product: Product, rows: list[Installment], current: Installment, prepaid: int, today: date, choice: str
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

    def to_json(self) -> dict[str, object]:
        from fenqi.servicing.views import payoff_json

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
        raise InvalidInput(f"a payoff quote is for today ({today}) or later, not {on}")
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
            i, f = _to_date(loan, product, on)
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
    )


def _projected_penalty(loan: Loan, rows: Sequence[Installment], order: Sequence[str], today: date, on: date) -> int:
    """Penalty interest and late fees close-of-business will charge on the days closed before `on` if
    nothing is paid meanwhile: its credit and penalty steps (fenqi.servicing.cob), day by day —
    installments falling due in between become overdue too, the credit balance is applied to what is
    due, and the APR-cap budget grows with the principal outstanding."""
    from fenqi.servicing.rules import budget_increment_nfen, daily_penalty, penalty_room

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


# --- credit balance --------------------------------------------------------------------------------


def apply_credit(session: Session, loan: Loan, rows: list[Installment], today: date, key: str) -> int:
    """Apply the shopper's credit balance to what is due (the repayment waterfall). Returns fen applied."""
    if loan.credit_balance_fen <= 0 or loan.status not in LoanStatus.OPEN:
        return 0
    order = product_of(session, loan).allocation_order
    alloc = allocate(loan.credit_balance_fen, loan.penalty_receivable_fen, _owed(rows), order)
    if alloc.applied == 0:
        return 0
    lines = [Line.dr(Account.CUSTOMER_CREDIT, alloc.applied), *_apply_allocation(loan, rows, alloc, today)]
    loan.credit_balance_fen -= alloc.applied
    post_entry(
        session, reason=Reason.CREDIT_APPLIED, lines=lines, idempotency_key=key, business_date=today, loan_id=loan.id
    )
    _close_if_settled(loan, rows, today)
    verify_against_ledger(session, loan)
    return alloc.applied


def refund_credit(session: Session, loan_id: int, *, amount_fen: int | None = None, refund_ref: str) -> int:
    """Move (part of) the shopper's credit balance to refunds payable; payments then pays it out.

    Idempotent by `refund_ref`: asking again returns the amount moved the first time and moves nothing.
    """
    loan = get_loan(session, loan_id, lock=True)
    key = f"refund:{refund_ref}"
    done = session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == key))
    if done is not None:
        moved = int(
            session.scalar(
                select(func.coalesce(func.sum(JournalLine.debit_fen), 0)).where(
                    JournalLine.entry_id == done.id, JournalLine.account == Account.CUSTOMER_CREDIT
                )
            )
            or 0
        )
        if done.loan_id != loan_id or (amount_fen is not None and amount_fen != moved):
            raise Conflict(f"refund {refund_ref} was already made for another loan or amount")
        return moved
    verify_against_ledger(session, loan)
    amount = loan.credit_balance_fen if amount_fen is None else amount_fen
    if amount <= 0 or amount > loan.credit_balance_fen:
        raise InvalidInput(f"refund of {amount} fen; credit balance is {loan.credit_balance_fen} fen")
    post_entry(
        session,
        reason=Reason.REFUND,
        idempotency_key=key,
        loan_id=loan.id,
        payment_ref=refund_ref,
        lines=[Line.dr(Account.CUSTOMER_CREDIT, amount), Line.cr(Account.REFUNDS_PAYABLE, amount)],
    )
    loan.credit_balance_fen -= amount
    verify_against_ledger(session, loan)
    return amount


# --- write-off -------------------------------------------------------------------------------------


def write_off(session: Session, loan_id: int, *, today: date | None = None) -> Loan:
    """Write the loan's receivables and accruals off to expense (COB does it at settings.write_off_days)."""
    loan = get_loan(session, loan_id, lock=True)
    if loan.status not in LoanStatus.OPEN:
        raise LoanNotOpen(str(loan_id))
    today = today or business_date(session)
    rows = installments(session, loan_id)
    parts = {
        Account.PRINCIPAL_RECEIVABLE: loan.principal_outstanding_fen,
        Account.INTEREST_RECEIVABLE: loan.interest_receivable_fen,
        Account.INTEREST_ACCRUED: loan.interest_accrued_fen,
        Account.FEE_RECEIVABLE: loan.fee_receivable_fen,
        Account.FEE_ACCRUED: loan.fee_accrued_fen,
        Account.PENALTY_RECEIVABLE: loan.penalty_receivable_fen,
    }
    total = sum(parts.values())
    if total:
        post_entry(
            session,
            reason=Reason.WRITE_OFF,
            idempotency_key=f"loan:{loan.id}:write_off",
            business_date=today,
            loan_id=loan.id,
            lines=[Line.dr(Account.WRITE_OFF_EXPENSE, total, loan_id=loan.id)]
            + [Line.cr(a, fen) for a, fen in parts.items() if fen],
        )
    mark_written_off(loan, rows, today, total)
    verify_against_ledger(session, loan)
    return loan


def mark_written_off(loan: Loan, rows: Sequence[Installment], today: date, total: int) -> None:
    loan.written_off_fen = total
    loan.principal_outstanding_fen = loan.interest_receivable_fen = loan.interest_accrued_fen = 0
    loan.fee_receivable_fen = loan.fee_accrued_fen = loan.penalty_receivable_fen = 0
    loan.status, loan.closed_on = LoanStatus.WRITTEN_OFF, today
    loan.cur_due_date, loan.cur_interest_fen, loan.cur_fee_fen = None, 0, 0
    for r in rows:
        if r.status in (InstallmentStatus.PENDING, InstallmentStatus.DUE):
            r.status = InstallmentStatus.CANCELLED


# --- return (cancellation) -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefundDue:
    """One payment a return gives back, through the channel it came in by."""

    item: Literal["down_payment", "payment"]
    channel: str | None  # None for the down payment: payments refunds it from its own order
    payment_ref: str | None  # the payment's reference (an out_trade_no); None for the down payment
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Cancellation:
    """A returned phone's loan, unwound, and what the shopper is to get back.

    `items` lists every payment to refund: the down payment (from merchant payable, by payments from
    the down payment order) and each payment on the loan (from the shopper's credit balance, which
    `cancel_loan` filled, with `refund_credit`), less what was refunded before the return. The paid
    figures say what the payments on the loan were for; together with the down payment they are
    everything the shopper paid.
    """

    loan: Loan
    down_payment_fen: int
    principal_fen: int
    interest_fen: int
    fee_fen: int  # scheduled fees (flat-fee plans)
    prepayment_fee_fen: int
    penalty_fen: int  # penalty interest and late fees
    unapplied_fen: int  # paid but not yet applied to anything (credit balance)
    refunded_before_fen: int  # credit refunded before the return
    items: tuple[RefundDue, ...]

    @property
    def credit_fen(self) -> int:
        """What is to be refunded from the loan's credit balance."""
        return sum(i.amount_fen for i in self.items if i.item == "payment")

    @property
    def total_fen(self) -> int:
        return sum(i.amount_fen for i in self.items)

    def to_json(self) -> dict[str, object]:
        from fenqi.servicing.views import cancellation_json

        return cancellation_json(self)


def cancel_loan(session: Session, loan_id: int, *, return_ref: str) -> Cancellation:
    """Unwind an open loan whose phone was returned (退货): the loan owes nothing, the income it earned
    (prepayment fees included) is reversed, and everything the shopper paid on it becomes a refundable
    credit balance; the answer lists what to refund, payment by payment, with the down payment.

    One entry (reason `cancellation`): Dr merchant_payable (the financed amount: the merchant owes it
    back), Dr interest/fee/penalty income (what the loan earned); Cr every receivable and accrual still
    open; Cr customer_credit for what the shopper had paid. Refund it with `refund_credit`.
    Idempotent by `return_ref`: asking again answers the same.
    """
    loan = get_loan(session, loan_id, lock=True)
    key = f"loan:{loan.id}:cancelled:{return_ref}"
    if loan.status == LoanStatus.CANCELLED:
        return _cancellation(session, loan)
    if loan.status not in LoanStatus.OPEN:
        raise LoanNotOpen(str(loan_id))
    verify_against_ledger(session, loan)
    today = business_date(session)
    rows = installments(session, loan_id)
    earned = _earned(session, loan.id)
    open_parts = {
        Account.PRINCIPAL_RECEIVABLE: loan.principal_outstanding_fen,
        Account.INTEREST_ACCRUED: loan.interest_accrued_fen,
        Account.INTEREST_RECEIVABLE: loan.interest_receivable_fen,
        Account.FEE_ACCRUED: loan.fee_accrued_fen,
        Account.FEE_RECEIVABLE: loan.fee_receivable_fen,
        Account.PENALTY_RECEIVABLE: loan.penalty_receivable_fen,
    }
    lines = [Line.dr(Account.MERCHANT_PAYABLE, loan.financed_fen, loan_id=loan.id)]
    lines += [Line.dr(income, fen, loan_id=loan.id) for income, fen in earned.items() if fen]
    lines += [Line.cr(account, fen) for account, fen in open_parts.items() if fen]
    # What the shopper paid to the loan's receivables and fees: all it was charged, less what is still open.
    refund = loan.financed_fen + sum(earned.values()) - sum(open_parts.values())
    if refund:
        lines.append(Line.cr(Account.CUSTOMER_CREDIT, refund))
    post_entry(
        session,
        reason=Reason.CANCELLATION,
        lines=_merge(lines),
        idempotency_key=key,
        business_date=today,
        loan_id=loan.id,
        payment_ref=return_ref[:80],
    )
    loan.credit_balance_fen += refund
    loan.principal_outstanding_fen = loan.interest_accrued_fen = loan.interest_receivable_fen = 0
    loan.fee_accrued_fen = loan.fee_receivable_fen = loan.penalty_receivable_fen = 0
    loan.status, loan.closed_on = LoanStatus.CANCELLED, today
    loan.cur_due_date, loan.cur_interest_fen, loan.cur_fee_fen = None, 0, 0
    loan.dpd, loan.bucket, loan.oldest_unpaid_due = 0, bucket_for(0, get_settings().delinquency_buckets), None
    for r in rows:
        if r.status in (InstallmentStatus.PENDING, InstallmentStatus.DUE):
            r.status = InstallmentStatus.CANCELLED
    verify_against_ledger(session, loan)
    result = _cancellation(session, loan)
    # Cash in = what the return gives back from the loan + what was refunded before: two independent
    # derivations (payments received vs the ledger's income and receivables) must agree to the fen.
    if result.credit_fen != loan.credit_balance_fen:
        raise InvariantViolation(
            f"loan {loan.id}: payments received less refunds are {result.credit_fen} fen, "
            f"the credit balance after the return is {loan.credit_balance_fen} fen"
        )
    return result


def _cancellation(session: Session, loan: Loan) -> Cancellation:
    """What a cancelled loan's return refunds, from its payments and its ledger up to the cancellation."""
    cancelled = session.scalar(
        select(JournalEntry.id).where(JournalEntry.loan_id == loan.id, JournalEntry.reason == Reason.CANCELLATION)
    )
    if cancelled is None:
        raise InvariantViolation(f"loan {loan.id} is cancelled without a cancellation entry")

    def credit_lines(reason: str) -> dict[str, int]:
        rows = session.execute(
            select(JournalLine.account, func.sum(JournalLine.credit_fen), func.sum(JournalLine.debit_fen))
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(JournalLine.loan_id == loan.id, JournalEntry.reason == reason, JournalEntry.id < cancelled)
            .group_by(JournalLine.account)
        ).all()
        return {str(a): int(c or 0) - int(d or 0) for a, c, d in rows}

    reps = [r for r in repayments(session, loan.id) if r.entry_id is None or r.entry_id < cancelled]
    from_credit = credit_lines(Reason.CREDIT_APPLIED)  # credit applied by close-of-business, by account
    refunded = -credit_lines(Reason.REFUND).get(Account.CUSTOMER_CREDIT, 0)
    applied = -from_credit.get(Account.CUSTOMER_CREDIT, 0)
    # Each payment, newest first, less what was refunded before the return.
    left_to_skip, items = refunded, []
    for r in reversed(reps):
        amount = r.amount_fen - min(left_to_skip, r.amount_fen)
        left_to_skip -= r.amount_fen - amount
        if amount:
            items.append(RefundDue("payment", r.channel, r.payment_ref, amount))
    items.reverse()
    if loan.down_payment_fen:
        items.insert(0, RefundDue("down_payment", None, None, loan.down_payment_fen))
    return Cancellation(
        loan=loan,
        down_payment_fen=loan.down_payment_fen,
        principal_fen=sum(r.principal_fen for r in reps) + from_credit.get(Account.PRINCIPAL_RECEIVABLE, 0),
        interest_fen=sum(r.interest_fen for r in reps) + from_credit.get(Account.INTEREST_RECEIVABLE, 0),
        fee_fen=sum(r.fee_fen for r in reps) + from_credit.get(Account.FEE_RECEIVABLE, 0),
        prepayment_fee_fen=sum(r.prepayment_fee_fen for r in reps),
        penalty_fen=sum(r.penalty_fen for r in reps) + from_credit.get(Account.PENALTY_RECEIVABLE, 0),
        unapplied_fen=sum(r.credit_fen for r in reps) - applied - refunded,
        refunded_before_fen=refunded,
        items=tuple(items),
    )


def _earned(session: Session, loan_id: int) -> dict[Account, int]:
    """Interest, fee and penalty income a loan has recognised, by income account: the debits of its own
    accrual accounts (interest and fee accrue into *_accrued, penalties straight into
    penalty_receivable) and the prepayment fees (credited straight to fee income)."""
    accrued = dict(
        session.execute(
            select(JournalLine.account, func.sum(JournalLine.debit_fen))
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(
                JournalLine.loan_id == loan_id,
                JournalLine.account.in_([Account.INTEREST_ACCRUED, Account.FEE_ACCRUED, Account.PENALTY_RECEIVABLE]),
                JournalEntry.reason.in_(
                    [
                        Reason.INTEREST_ACCRUAL,
                        Reason.FEE_ACCRUAL,
                        Reason.INSTALLMENT_DUE,
                        Reason.PREPAYMENT,
                        Reason.REPAYMENT,
                        Reason.PENALTY,
                        Reason.LATE_FEE,
                    ]
                ),
            )
            .group_by(JournalLine.account)
        ).all()
    )
    prepayment_fees = session.scalar(
        select(func.coalesce(func.sum(Repayment.prepayment_fee_fen), 0)).where(Repayment.loan_id == loan_id)
    )
    return {
        Account.INTEREST_INCOME: int(accrued.get(Account.INTEREST_ACCRUED) or 0),
        Account.FEE_INCOME: int(accrued.get(Account.FEE_ACCRUED) or 0) + int(prepayment_fees or 0),
        Account.PENALTY_INCOME: int(accrued.get(Account.PENALTY_RECEIVABLE) or 0),
    }
