"""The scorecard's cost of 花呗分期 (an installment platform on Alipay): the platform's fee per ¥100 paid in
installments, the shopper's part and the merchant's, from our paid 花呗 orders in the window."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from fenqi.partners import scorecard
from tests.origination.world import TODAY, build_world
from tests.partners.known_data import order, register


def test_cost_per_100_of_huabei(session: Session) -> None:
    build_world(session)
    register(session, "P-HB", "花呗分期", "installment_platform", channel="alipay")
    # ¥1,000.00 in 3 periods, the shopper pays ¥23.00; ¥3,000.00 in 12, the merchant pays ¥225.00.
    for amount, term, fee, percent in ((100_000, 3, 2_300, 0), (300_000, 12, 22_500, 100)):
        row = order(session, "alipay", "paid")
        row.purpose, row.amount_fen, row.paid_amount_fen = "down_payment", amount, amount
        row.hb_fq_num, row.hb_fee_fen, row.hb_fq_seller_percent = term, fee, percent
    order(session, "alipay", "paid")  # a plain Alipay payment is not 花呗
    session.flush()

    card = scorecard.scorecard(session, end=TODAY)
    values = next(r for r in card.groups["installment_platform"] if r.code == "P-HB").values
    assert (values["shopper_cost_per_100"].value, values["shopper_cost_per_100"].n) == (Decimal("0.58"), 2)
    assert values["merchant_cost_per_100"].value == Decimal("5.63")  # 225 / 4,000 × 100 = 5.625


def test_a_refunded_sale_costs_only_what_was_kept(session: Session) -> None:
    """Half of a merchant-paid ¥3,000.00 12-period sale refunded: Alipay gave back half its ¥225.00 fee, so
    the merchant's cost is ¥112.50 on the ¥1,500.00 kept — ¥7.50 per ¥100, as before the refund."""
    build_world(session)
    register(session, "P-HB", "花呗分期", "installment_platform", channel="alipay")
    row = order(session, "alipay", "paid")
    row.purpose, row.amount_fen, row.paid_amount_fen, row.refunded_fen = "down_payment", 300_000, 300_000, 150_000
    row.hb_fq_num, row.hb_fee_fen, row.hb_fq_seller_percent = 12, 22_500, 100
    gone = order(session, "alipay", "refunded")  # refunded in full: nothing kept, no fee
    gone.purpose, gone.amount_fen, gone.paid_amount_fen, gone.refunded_fen = "down_payment", 100_000, 100_000, 100_000
    gone.hb_fq_num, gone.hb_fee_fen, gone.hb_fq_seller_percent = 3, 2_300, 100
    session.flush()

    card = scorecard.scorecard(session, end=TODAY)
    values = next(r for r in card.groups["installment_platform"] if r.code == "P-HB").values
    assert (values["merchant_cost_per_100"].value, values["merchant_cost_per_100"].n) == (Decimal("7.50"), 2)
    assert values["shopper_cost_per_100"].value == Decimal("0.00")
