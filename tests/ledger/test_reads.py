"""The ledger's read port: entries by key, an entry's debits, a loan's totals per account for some reasons."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from fenqi.kit.clock import set_business_date
from fenqi.ledger import (
    Account,
    EntryRef,
    Line,
    Totals,
    entry_by_key,
    entry_debits,
    loan_account_totals,
    loan_entry_id,
    own_entries_net_debit,
    post_entry,
)

DAY = date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _day(session: Session) -> None:
    set_business_date(session, DAY)


def post(session: Session, key: str, reason: str, loan_id: int | None, lines: list[Line]) -> int:
    return post_entry(session, reason=reason, idempotency_key=key, loan_id=loan_id, lines=lines).id


def test_entry_by_key_and_its_debits(session: Session) -> None:
    entry = post(session, "refund:r1", "refund", 7,
                 [Line.dr(Account.CUSTOMER_CREDIT, 300), Line.cr(Account.REFUNDS_PAYABLE, 300)])
    assert entry_by_key(session, "refund:r1") == EntryRef(entry, 7, "refund")
    assert entry_by_key(session, "refund:none") is None
    assert entry_debits(session, entry, Account.CUSTOMER_CREDIT) == 300
    assert entry_debits(session, entry, Account.REFUNDS_PAYABLE) == 0  # credited, not debited
    assert entry_debits(session, entry + 1000, Account.CUSTOMER_CREDIT) == 0


def test_loan_totals_by_reason_account_and_before_an_entry(session: Session) -> None:
    pay = [Line.dr(Account.CASH_ALIPAY, 500), Line.cr(Account.CUSTOMER_CREDIT, 500)]
    post(session, "p1", "repayment", 7, pay)
    post(session, "p2", "repayment", 8, pay)  # another loan's
    post(session, "r1", "refund", 7, [Line.dr(Account.CUSTOMER_CREDIT, 200), Line.cr(Account.REFUNDS_PAYABLE, 200)])
    cut = post(session, "c1", "cancellation", 7,
               [Line.dr(Account.MERCHANT_PAYABLE, 100), Line.cr(Account.CUSTOMER_CREDIT, 100)])
    post(session, "p3", "repayment", 7, pay)  # after the cut
    assert loan_entry_id(session, 7, "cancellation") == cut
    assert loan_entry_id(session, 8, "cancellation") is None
    everything = loan_account_totals(session, 7, reasons=["repayment", "refund"])
    assert everything == {Account.CUSTOMER_CREDIT: Totals(200, 1000)}  # cash lines carry no loan
    before = loan_account_totals(session, 7, reasons=["repayment", "refund"], before_entry_id=cut)
    assert before == {Account.CUSTOMER_CREDIT: Totals(200, 500)}
    assert loan_account_totals(session, 7, reasons=["repayment"], accounts=[Account.FEE_ACCRUED]) == {}


def test_own_entries_net_debit_counts_platform_lines_of_the_loans_entries(session: Session) -> None:
    credit = [Line.dr(Account.MERCHANT_PAYABLE, 400), Line.cr(Account.CUSTOMER_CREDIT, 400)]
    post(session, "m1", "aftersales.exchange_credit", 7, credit)
    post(session, "m2", "aftersales.exchange_credit", 8, credit)
    cut = post(session, "c1", "cancellation", 7, credit)
    post(session, "m3", "aftersales.exchange_credit", 7, credit)
    net = own_entries_net_debit(session, 7, reason="aftersales.exchange_credit", account=Account.MERCHANT_PAYABLE)
    assert net == 800
    assert own_entries_net_debit(session, 7, reason="aftersales.exchange_credit", account=Account.MERCHANT_PAYABLE,
                                 before_entry_id=cut) == 400
    assert own_entries_net_debit(session, 9, reason="aftersales.exchange_credit",
                                 account=Account.MERCHANT_PAYABLE) == 0
