"""Money properties of the disbursement: the merchant fee is rounded half up to the fen, and what the
merchant receives plus what is withheld is exactly the financed amount, posted as a balanced entry."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from fenqi.catalog.service import create_merchant
from fenqi.funding.disbursement import disburse, merchant_fee_fen
from fenqi.ledger.service import account_balance
from tests.funding.test_routing import funder
from tests.origination.world import TODAY, World


@given(st.integers(1, 10**9), st.decimals("0", "0.1", places=4))
def test_merchant_fee_is_half_up_to_the_fen(financed_fen: int, rate: Decimal) -> None:
    exact = Decimal(financed_fen) * rate
    assert merchant_fee_fen(financed_fen, rate) == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(price=st.integers(10_000, 2_000_000), down_pct=st.integers(0, 50), subsidy_pct=st.integers(0, 5),
       fee_rate=st.decimals("0", "0.05", places=3))
def test_disbursement_conserves_the_financed_amount(
    session: Session, shop: World, price: int, down_pct: int, subsidy_pct: int, fee_rate: Decimal
) -> None:
    nested = session.begin_nested()  # each example on a clean slate inside the test's transaction
    try:
        merchant = create_merchant(session, code="PROP", name="性质", region="31", fee_rate=fee_rate)
        funder(session, "PF", "0.05")
        down = price * down_pct // 100
        financed = price - down
        subsidy = financed * subsidy_pct // 100
        before = {a: account_balance(session, a) for a in ("merchant_payable", "funder_payable", "subsidy_income",
                                                             "merchant_fee_income")}
        row = disburse(session, application_id=1, loan_id=1, funder_code="PF", merchant_id=merchant.id,
                       price_fen=price, down_payment_fen=down, subsidy_fen=subsidy, on=TODAY)
        assert row.amount_fen + row.subsidy_fen + row.merchant_fee_fen == row.financed_fen == financed
        moved = {a: account_balance(session, a) - v for a, v in before.items()}
        # merchant_payable is a liability: the debit lowers its (credit-normal) balance by the financed amount.
        assert moved == {"merchant_payable": -financed, "funder_payable": row.amount_fen,
                         "subsidy_income": subsidy, "merchant_fee_income": row.merchant_fee_fen}
    finally:
        nested.rollback()
