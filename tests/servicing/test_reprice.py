"""Re-pricing a loan (a pricier exchange's difference financed): for any difference on any day, the new
schedule repays the old principal outstanding plus the difference to the fen, the books balance, the APR is
the project's and within the cap, and close-of-business runs on over the new schedule."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from fenqi.kit.money import rate_as_disclosed
from fenqi.kit.settings import get_settings
from fenqi.ledger import Account, account_balance
from fenqi.servicing import reprice
from fenqi.servicing.service import get_loan, installments
from tests.servicing.support import DB, PROFILE, START, fresh_book
from tests.servicing.test_hardship import _book, _ok, _open_rows, _pay_due, _until

FEW = settings(DB, max_examples={"dev": 6, "ci": 8, "nightly": 200}.get(PROFILE, 8))


@FEW
@given(
    product=st.sampled_from([("EI-12", 12), ("EP-10", 6), ("FEE-060", 12), ("IF-MERCHANT", 6)]),
    fen=st.integers(min_value=50_000, max_value=2_000_000),
    extra=st.integers(min_value=1, max_value=1_500_000),
    days=st.integers(min_value=0, max_value=45),
    longer=st.booleans(),
)
def test_a_re_price_repays_the_old_principal_plus_the_difference(
    session: Session, product: tuple[str, int], fen: int, extra: int, days: int, longer: bool
) -> None:
    conn = session.connection()
    example = conn.begin_nested()
    try:
        fresh_book(session)
        code, n = product
        loan = _book(session, ref=f"R{fen}-{extra}", code=code, fen=fen, term=n)
        day = START + timedelta(days=days)
        _until(session, day)
        _pay_due(session, loan.id, f"due-{fen}")  # a loan in arrears is refused: bring it current first
        loan = get_loan(session, loan.id)
        outstanding = loan.principal_outstanding_fen
        left = len(_open_rows(session, loan.id))
        merchant = account_balance(session, Account.MERCHANT_PAYABLE)
        total_before = account_balance(session, Account.PRINCIPAL_RECEIVABLE)
        term = left + 12 if longer else None
        shown = reprice.preview(session, loan.id, extra_fen=extra, term=term)
        done = reprice.reprice(session, loan.id, extra_fen=extra, term=term, ref=f"x-{fen}-{extra}")
        assert done.rows == shown.rows and done.apr == shown.apr  # what was disclosed is what is booked
        loan = get_loan(session, loan.id)
        rows = _open_rows(session, loan.id)
        assert done.principal_fen == outstanding + extra == loan.principal_outstanding_fen
        assert sum(r.principal_fen - r.paid_principal_fen for r in rows) == outstanding + extra
        assert len(rows) == (left + 12 if longer else left)
        # No fen created or lost: the principal receivable grew by the difference, owed to the merchant.
        assert account_balance(session, Account.PRINCIPAL_RECEIVABLE) - total_before == extra
        assert account_balance(session, Account.MERCHANT_PAYABLE) - merchant == extra  # credit-normal
        assert loan.financed_fen == fen + extra
        assert rate_as_disclosed(done.apr) <= get_settings().apr_cap
        _ok(session)
        # Idempotent: the same reference changes nothing more.
        again = reprice.reprice(session, loan.id, extra_fen=extra, term=term, ref=f"x-{fen}-{extra}")
        assert again.principal_fen == outstanding + extra == get_loan(session, loan.id).principal_outstanding_fen
        # Close-of-business over the new schedule, paying what falls due: the books stay clean.
        _until(session, rows[0].due_date + timedelta(days=1))
        _pay_due(session, loan.id, f"c-{fen}")
        assert get_loan(session, loan.id).dpd <= 1
        assert sum(r.principal_fen for r in installments(session, loan.id)
                   if r.status != "cancelled") == fen + extra
        _ok(session)
    finally:
        example.rollback()
        session.expunge_all()
