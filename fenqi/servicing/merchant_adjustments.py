"""Adjustments between a loan and its merchant made by after-sales: deductions agreed on a return (退货扣款),
taken from the refundable credit balance of a cancelled loan, and the difference of a cheaper exchange.

After `cancel_loan` what the shopper paid on the loan is their credit balance; the itemized deductions
agreed at the after-sales desk (a missing charger, scratches) go to the merchant instead of back to the
shopper: Dr customer_credit / Cr merchant_payable. Idempotent by `ref`. A cheaper exchange's difference is
paid off the loan by the merchant (`reduce_principal_from_merchant`) or, on a closed loan, credited to it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from fenqi.kit.errors import Conflict, InvalidInput
from fenqi.ledger import Account, Line, entry_by_key, entry_posted, post_entry
from fenqi.servicing.repayment import RepaymentResult, apply_repayment
from fenqi.servicing.service import get_loan


def withhold_credit(session: Session, loan_id: int, *, amount_fen: int, ref: str) -> int:
    """Move `amount_fen` of the loan's credit balance to the merchant; returns the amount moved."""
    loan = get_loan(session, loan_id, lock=True)
    key = f"withhold:{ref}"
    done = entry_by_key(session, key)
    if done is not None:
        if done.loan_id != loan_id:
            raise Conflict.saying(f"扣款 {ref} 已用于另一笔贷款", f"deduction {ref} was taken from another loan")
        return amount_fen
    if not isinstance(amount_fen, int) or amount_fen <= 0 or amount_fen > loan.credit_balance_fen:
        raise InvalidInput.saying(f"扣款 {amount_fen} 分超过溢缴款余额 {loan.credit_balance_fen} 分",
                                  f"deduction of {amount_fen} fen; credit balance is {loan.credit_balance_fen} fen")
    post_entry(session, reason="aftersales.deduction", idempotency_key=key, loan_id=loan.id, payment_ref=ref[:80],
               lines=[Line.dr(Account.CUSTOMER_CREDIT, amount_fen), Line.cr(Account.MERCHANT_PAYABLE, amount_fen)])
    loan.credit_balance_fen -= amount_fen
    session.flush()
    return amount_fen


def credit_from_merchant(session: Session, loan_id: int, *, amount_fen: int, ref: str) -> int:
    """An exchange for a cheaper phone: the merchant owes the shopper the difference, which becomes the
    loan's credit balance (applied to the next installments as they fall due, no prepayment fee; or
    refundable). Dr merchant_payable / Cr customer_credit. Idempotent by `ref`."""
    loan = get_loan(session, loan_id, lock=True)
    key = f"merchant_credit:{ref}"
    if entry_posted(session, key):
        return amount_fen
    if not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InvalidInput.saying(f"入账金额 {amount_fen} 分无效", f"credit of {amount_fen} fen")
    post_entry(session, reason="aftersales.exchange_credit", idempotency_key=key, loan_id=loan.id,
               payment_ref=ref[:80],
               lines=[Line.dr(Account.MERCHANT_PAYABLE, amount_fen), Line.cr(Account.CUSTOMER_CREDIT, amount_fen)])
    loan.credit_balance_fen += amount_fen
    session.flush()
    return amount_fen


def reduce_principal_from_merchant(session: Session, loan_id: int, *, amount_fen: int, ref: str) -> RepaymentResult:
    """An exchange for a cheaper phone (policy `reduce_principal`): the merchant pays the difference off the
    loan as an early repayment without prepayment fee (Dr merchant_payable), and the rest of the schedule is
    re-amortized for a lower installment over the same term — servicing's own prepayment, nothing new. A
    later return gives it back to the merchant. Idempotent by `ref`."""
    return apply_repayment(session, loan_id=loan_id, amount_fen=amount_fen, payment_ref=f"merchant:{ref}"[:80],
                           purpose="prepayment", prepayment_choice="lower_installment", by_merchant=True)
