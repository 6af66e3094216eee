"""Repayment (还款): a payment applied by the waterfall, exactly once per payment reference; early
repayment hands over to fenqi.servicing.prepayment; the credit balance applied by close-of-business."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.errors import Conflict, InvalidInput
from fenqi.ledger import Account, Line, Reason, cash_account, post_entry
from fenqi.servicing.allocation import allocate
from fenqi.servicing.hardship import open_settlement, settle
from fenqi.servicing.lifecycle import MERCHANT_CHANNEL, close_if_settled
from fenqi.servicing.loans import (
    apply_allocation,
    get_loan,
    installments,
    merge_lines,
    owed_installments,
    product_of,
    refresh_delinquency,
    verify_against_ledger,
)
from fenqi.servicing.models import Installment, InstallmentStatus, Loan, LoanStatus, Repayment
from fenqi.servicing.prepayment import prepay
from fenqi.servicing.views import repayment_json

Purpose = Literal["installment", "prepayment", "payoff"]

PrepaymentChoice = Literal["shorter_term", "lower_installment"]

PURPOSES: tuple[str, ...] = ("installment", "prepayment", "payoff")

CHOICES: tuple[str, ...] = ("shorter_term", "lower_installment")

# Called with (session, loan_id, business date) after a payment was applied (not on a replay), in the
# payment's transaction: collections closes a case the payment cured or paid off at once, not at night.
RepaidHook = Callable[[Session, int, date], object]
_REPAID_HOOKS: list[RepaidHook] = []


def on_repaid(hook: RepaidHook) -> None:
    if hook not in _REPAID_HOOKS:
        _REPAID_HOOKS.append(hook)


@dataclass(frozen=True, slots=True)
class RepaymentResult:
    repayment: Repayment
    loan: Loan
    replayed: bool  # True when the payment_ref had already been applied

    def to_json(self) -> dict[str, object]:
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
    by_merchant: bool = False,
) -> RepaymentResult:
    """Apply a payment received through `channel` to a loan, exactly once per `payment_ref`.

    purpose="installment": the waterfall over what is past due; the rest becomes the shopper's credit
    balance (applied to the next installment on its due date, or refundable).
    purpose="prepayment": the same, then interest and fee to date, the prepayment fee and as much
    principal as the rest covers; the remaining schedule is re-amortized for a shorter term or a lower
    installment (`prepayment_choice`). Enough to pay everything closes the loan ("payoff" is an alias).
    A written-off loan's payments are recoveries; a closed loan's go to the credit balance (refundable).
    by_merchant: the merchant pays it for the shopper out of what it is owed (a cheaper exchange's
    difference): Dr merchant_payable instead of a channel's cash, recorded under the channel "merchant",
    no prepayment fee, and the shopper's credit balance left alone. A return gives it back to the merchant.
    """
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise InvalidInput.saying("金额须为正整数（分）", "amount must be a positive number of fen")
    if not payment_ref or len(payment_ref) > 80:
        raise InvalidInput.saying("付款单号 payment_ref 须为 1-80 个字符", "payment_ref must be 1-80 characters")
    if purpose not in PURPOSES:
        raise InvalidInput.saying(f"还款用途须为 {' | '.join(PURPOSES)} 之一",
                                  f"purpose must be one of {', '.join(PURPOSES)}")
    if prepayment_choice not in CHOICES:
        raise InvalidInput.saying(f"提前还款方式须为 {' | '.join(CHOICES)} 之一",
                                  f"prepayment_choice must be one of {', '.join(CHOICES)}")
    if by_merchant:
        channel = MERCHANT_CHANNEL
    cash = Account.MERCHANT_PAYABLE if by_merchant else cash_account(channel)
    loan = get_loan(session, loan_id, lock=True)  # serializes payments on one loan (no lost update)
    done = session.scalar(select(Repayment).where(Repayment.payment_ref == payment_ref))
    if done is not None:
        if (done.loan_id, done.amount_fen) != (loan_id, amount_fen):
            raise Conflict.saying(f"付款 {payment_ref} 已用于另一笔贷款或另一金额",
                                  f"payment {payment_ref} was already applied to another loan or amount")
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
    elif (offer := open_settlement(session, loan.id, today)) is not None and (
        settled := settle(session, loan, rows, offer, rep, cash)
    ) is not None:
        # The payment reaches an agreed discounted payoff (fenqi.servicing.hardship): the loan closes.
        reason, lines = Reason.HARDSHIP_SETTLEMENT, settled
    else:
        early = purpose in ("prepayment", "payoff")
        if early:
            # On a due date the installment falling due today is paid as due (no prepayment fee on its
            # principal), as the payoff quote for today counts it; the rest is prepaid from tomorrow's period.
            _fall_due_today(session, loan, rows, today, payment_ref)
        # Early repayment draws on the shopper's credit balance too (a payoff quote deducts it).
        held = loan.credit_balance_fen if early and not by_merchant else 0
        order = product_of(session, loan).allocation_order
        alloc = allocate(amount_fen + held, loan.penalty_receivable_fen, owed_installments(rows), order)
        lines += apply_allocation(loan, rows, alloc, today)
        rep.penalty_fen, rep.fee_fen = alloc.penalty, alloc.total("fee")
        rep.interest_fen, rep.principal_fen = alloc.total("interest"), alloc.total("principal")
        left = alloc.credit
        if left and early and loan.oldest_unpaid_due is None:
            reason = Reason.PREPAYMENT
            left, extra = prepay(session, loan, rows, left, today, prepayment_choice, rep, fee_free=by_merchant)
            lines += extra
        rep.credit_fen = left - held  # the change of the credit balance: negative when it was used
        close_if_settled(loan, rows, today)
    if rep.credit_fen > 0:
        lines.append(Line.cr(Account.CUSTOMER_CREDIT, rep.credit_fen))
    elif rep.credit_fen < 0:
        lines.append(Line.dr(Account.CUSTOMER_CREDIT, -rep.credit_fen))
    loan.credit_balance_fen += rep.credit_fen
    entry = post_entry(
        session,
        reason=reason,
        lines=merge_lines(lines),
        idempotency_key=f"repayment:{payment_ref}",
        business_date=today,
        loan_id=loan.id,
        payment_ref=payment_ref,
    )
    rep.entry_id = entry.id
    session.add(rep)
    verify_against_ledger(session, loan)
    session.flush()  # the hooks read the loan as it now stands
    for hook in _REPAID_HOOKS:
        hook(session, loan.id, today)
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
            lines=merge_lines(lines),
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


def apply_credit(session: Session, loan: Loan, rows: list[Installment], today: date, key: str) -> int:
    """Apply the shopper's credit balance to what is due (the repayment waterfall). Returns fen applied."""
    if loan.credit_balance_fen <= 0 or loan.status not in LoanStatus.OPEN:
        return 0
    order = product_of(session, loan).allocation_order
    alloc = allocate(loan.credit_balance_fen, loan.penalty_receivable_fen, owed_installments(rows), order)
    if alloc.applied == 0:
        return 0
    lines = [Line.dr(Account.CUSTOMER_CREDIT, alloc.applied), *apply_allocation(loan, rows, alloc, today)]
    loan.credit_balance_fen -= alloc.applied
    post_entry(
        session, reason=Reason.CREDIT_APPLIED, lines=lines, idempotency_key=key, business_date=today, loan_id=loan.id
    )
    close_if_settled(loan, rows, today)
    verify_against_ledger(session, loan)
    return alloc.applied
