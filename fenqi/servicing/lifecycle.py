"""The end of a loan's life other than being paid: write-off (核销), return (退货: the loan cancelled and
everything the shopper paid made refundable) and refunds of the credit balance; and the one helper that
closes a loan, whichever way it ends (with close_if_settled, which pays off a loan that owes nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.errors import Conflict, InvalidInput
from fenqi.kit.settings import get_settings
from fenqi.ledger import (
    Account,
    Line,
    Reason,
    entry_by_key,
    entry_debits,
    loan_account_totals,
    loan_entry_id,
    own_entries_net_debit,
    post_entry,
)
from fenqi.servicing.errors import InvariantViolation, LoanNotOpen
from fenqi.servicing.loans import (
    get_loan,
    installments,
    merge_lines,
    owed_fen,
    repayments,
    verify_against_ledger,
)
from fenqi.servicing.models import Installment, InstallmentStatus, Loan, LoanStatus, Repayment
from fenqi.servicing.rules import bucket_for
from fenqi.servicing.views import cancellation_json


def close_loan(loan: Loan, rows: Sequence[Installment], status: str, today: date) -> None:
    """The loan leaves the book — paid off, written off or cancelled: its balances become zero (the
    caller has posted the entry that makes them so, or they already are), there is no current period,
    and nothing is left open in its schedule.

    Paid off: the installments not reached are trimmed to what was paid on them (an early payoff paid
    their principal as prepayment). Written off: the loan keeps the dpd and bucket it was written off
    at. Paid off or cancelled: it is current.
    """
    loan.status, loan.closed_on = status, today
    loan.principal_outstanding_fen = loan.interest_accrued_fen = loan.interest_receivable_fen = 0
    loan.fee_accrued_fen = loan.fee_receivable_fen = loan.penalty_receivable_fen = 0
    loan.cur_due_date, loan.cur_interest_fen, loan.cur_fee_fen = None, 0, 0
    if status != LoanStatus.WRITTEN_OFF:
        loan.dpd, loan.bucket, loan.oldest_unpaid_due = 0, bucket_for(0, get_settings().delinquency_buckets), None
    for r in rows:
        if r.status in (InstallmentStatus.PENDING, InstallmentStatus.DUE):
            if status == LoanStatus.PAID_OFF:
                r.principal_fen, r.interest_fen, r.fee_fen = r.paid_principal_fen, r.paid_interest_fen, r.paid_fee_fen
            r.status = InstallmentStatus.CANCELLED


def close_if_settled(loan: Loan, rows: Sequence[Installment], today: date) -> None:
    """Paid off when an open loan owes nothing any more (after a payment, the credit balance applied, or
    a hardship settlement: here, below both, so that hardship need not import repayment back)."""
    if loan.status in LoanStatus.OPEN and owed_fen(loan) == 0:
        close_loan(loan, rows, LoanStatus.PAID_OFF, today)


# --- the credit balance ----------------------------------------------------------------------------


def refund_credit(session: Session, loan_id: int, *, amount_fen: int | None = None, refund_ref: str) -> int:
    """Move (part of) the shopper's credit balance to refunds payable; payments then pays it out.

    Idempotent by `refund_ref`: asking again returns the amount moved the first time and moves nothing.
    """
    loan = get_loan(session, loan_id, lock=True)
    key = f"refund:{refund_ref}"
    done = entry_by_key(session, key)
    if done is not None:
        moved = entry_debits(session, done.id, Account.CUSTOMER_CREDIT)
        if done.loan_id != loan_id or (amount_fen is not None and amount_fen != moved):
            raise Conflict.saying(f"退款 {refund_ref} 已用于另一笔贷款或另一金额",
                                  f"refund {refund_ref} was already made for another loan or amount")
        return moved
    verify_against_ledger(session, loan)
    amount = loan.credit_balance_fen if amount_fen is None else amount_fen
    if amount <= 0 or amount > loan.credit_balance_fen:
        raise InvalidInput.saying(f"退款 {amount} 分超过溢缴款余额 {loan.credit_balance_fen} 分",
                                  f"refund of {amount} fen; credit balance is {loan.credit_balance_fen} fen")
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
    close_loan(loan, rows, LoanStatus.WRITTEN_OFF, today)


# --- return (cancellation) -------------------------------------------------------------------------


# What the merchant pays of a loan for the shopper (servicing.merchant_adjustments, a cheaper exchange): a
# repayment under this channel, or a credit entry of this reason. A cancellation counts both like payments
# and gives them back to the merchant, not to the shopper.
MERCHANT_CHANNEL = "merchant"
MERCHANT_CREDIT_REASON = "aftersales.exchange_credit"


@dataclass(frozen=True, slots=True)
class RefundDue:
    """One payment a return gives back, through the channel it came in by."""

    item: Literal["down_payment", "payment", "merchant"]
    channel: str | None  # None for the down payment (payments refunds it from its own order) and the merchant
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
        """What the loan's credit balance holds after the return: the shopper's payments to refund and what
        the merchant credited to the loan (a cheaper exchange's difference), which goes back to it."""
        return sum(i.amount_fen for i in self.items if i.item != "down_payment")

    @property
    def merchant_fen(self) -> int:
        """What goes back to the merchant (it paid that much of the loan for the shopper)."""
        return sum(i.amount_fen for i in self.items if i.item == "merchant")

    @property
    def total_fen(self) -> int:
        return sum(i.amount_fen for i in self.items)

    def to_json(self) -> dict[str, object]:
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
        lines=merge_lines(lines),
        idempotency_key=key,
        business_date=today,
        loan_id=loan.id,
        payment_ref=return_ref[:80],
    )
    loan.credit_balance_fen += refund
    close_loan(loan, rows, LoanStatus.CANCELLED, today)
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
    cancelled = loan_entry_id(session, loan.id, Reason.CANCELLATION)
    if cancelled is None:
        raise InvariantViolation(f"loan {loan.id} is cancelled without a cancellation entry")

    def credit_lines(reason: str) -> dict[str, int]:
        totals = loan_account_totals(session, loan.id, reasons=[reason], before_entry_id=cancelled)
        return {str(a): t.credit - t.debit for a, t in totals.items()}

    every = [r for r in repayments(session, loan.id) if r.entry_id is None or r.entry_id < cancelled]
    reps = [r for r in every if r.channel != MERCHANT_CHANNEL]
    from_credit = credit_lines(Reason.CREDIT_APPLIED)  # credit applied by close-of-business, by account
    refunded = -credit_lines(Reason.REFUND).get(Account.CUSTOMER_CREDIT, 0)
    applied = -from_credit.get(Account.CUSTOMER_CREDIT, 0)
    # What the merchant paid of the loan (a cheaper exchange): credited, or repaid under its own channel.
    merchant_credited = own_entries_net_debit(session, loan.id, reason=MERCHANT_CREDIT_REASON,
                                              account=Account.MERCHANT_PAYABLE, before_entry_id=cancelled)
    merchant = merchant_credited + sum(r.amount_fen for r in every if r.channel == MERCHANT_CHANNEL)
    # Each payment, newest first, less what was refunded before the return.
    left_to_skip, items = refunded, []
    for r in reversed(reps):
        amount = r.amount_fen - min(left_to_skip, r.amount_fen)
        left_to_skip -= r.amount_fen - amount
        if amount:
            items.append(RefundDue("payment", r.channel, r.payment_ref, amount))
    items.reverse()
    if merchant:
        items.append(RefundDue("merchant", None, None, merchant))
    if loan.down_payment_fen:
        items.insert(0, RefundDue("down_payment", None, None, loan.down_payment_fen))
    return Cancellation(
        loan=loan,
        down_payment_fen=loan.down_payment_fen,
        principal_fen=sum(r.principal_fen for r in every) + from_credit.get(Account.PRINCIPAL_RECEIVABLE, 0),
        interest_fen=sum(r.interest_fen for r in every) + from_credit.get(Account.INTEREST_RECEIVABLE, 0),
        fee_fen=sum(r.fee_fen for r in every) + from_credit.get(Account.FEE_RECEIVABLE, 0),
        prepayment_fee_fen=sum(r.prepayment_fee_fen for r in every),
        penalty_fen=sum(r.penalty_fen for r in every) + from_credit.get(Account.PENALTY_RECEIVABLE, 0),
        unapplied_fen=sum(r.credit_fen for r in every) + merchant_credited - applied - refunded,
        refunded_before_fen=refunded,
        items=tuple(items),
    )


def _earned(session: Session, loan_id: int) -> dict[Account, int]:
    """Interest, fee and penalty income a loan has recognised, by income account: the debits of its own
    accrual accounts (interest and fee accrue into *_accrued, penalties straight into
    penalty_receivable) and the prepayment fees (credited straight to fee income)."""
    totals = loan_account_totals(
        session,
        loan_id,
        accounts=[Account.INTEREST_ACCRUED, Account.FEE_ACCRUED, Account.PENALTY_RECEIVABLE],
        reasons=[
            Reason.INTEREST_ACCRUAL,
            Reason.FEE_ACCRUAL,
            Reason.INSTALLMENT_DUE,
            Reason.PREPAYMENT,
            Reason.REPAYMENT,
            Reason.PENALTY,
            Reason.LATE_FEE,
        ],
    )
    accrued = {account: t.debit for account, t in totals.items()}
    prepayment_fees = session.scalar(
        select(func.coalesce(func.sum(Repayment.prepayment_fee_fen), 0)).where(Repayment.loan_id == loan_id)
    )
    return {
        Account.INTEREST_INCOME: int(accrued.get(Account.INTEREST_ACCRUED) or 0),
        Account.FEE_INCOME: int(accrued.get(Account.FEE_ACCRUED) or 0) + int(prepayment_fees or 0),
        Account.PENALTY_INCOME: int(accrued.get(Account.PENALTY_RECEIVABLE) or 0),
    }
