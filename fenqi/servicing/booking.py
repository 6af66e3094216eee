"""Booking a loan (放款入账): the schedule from the product, the contract's servicing terms, the entry."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.errors import Conflict, InvalidInput
from fenqi.kit.money import fmt_percent, from_fen, rate_as_disclosed, to_fen
from fenqi.kit.settings import get_settings
from fenqi.ledger import TRAINING, Account, Line, Reason, keep_in_book, post_entry
from fenqi.pricing.apr import apr as compute_apr
from fenqi.pricing.errors import AprAboveCap
from fenqi.pricing.schedule import Method, build_schedule
from fenqi.pricing.service import get_product
from fenqi.servicing.models import Installment, Loan, LoanStatus
from fenqi.servicing.rules import cap_headroom_ppb, rate_ppb


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
    training: bool = False,
) -> Loan:
    """Book a loan from a product and its pricing schedule; idempotent by `external_ref`.

    Posts Dr principal_receivable / Cr merchant_payable for the financed amount (the disbursement to
    the merchant, the down payment and any subsidy are posted by funding and payments against
    merchant_payable). `annual_rate`/`fee_rate` override the product's (risk-based pricing); the plan's
    APR must be within settings.apr_cap. `start_date` defaults to, and may not be before, the business date.
    `training`: a training store's practice loan, kept in the ledger's training book.
    """
    if not external_ref or len(external_ref) > 80:
        raise InvalidInput.saying("外部编号 external_ref 须为 1-80 个字符", "external_ref must be 1-80 characters")
    existing = session.scalar(select(Loan).where(Loan.external_ref == external_ref))
    if existing is not None:
        if (existing.financed_fen, existing.term) != (financed_fen, term):
            raise Conflict.saying(f"贷款 {external_ref} 已按其他条件入账",
                                  f"loan {external_ref} already booked with other terms")
        return existing
    if not isinstance(financed_fen, int) or financed_fen <= 0:
        raise InvalidInput.saying("融资金额 financed_fen 须为正整数（分）",
                                  "financed_fen must be a positive integer number of fen")
    if down_payment_fen < 0:
        raise InvalidInput.saying("首付 down_payment_fen 不能为负数", "down_payment_fen must not be negative")
    product = get_product(session, product_code)
    if term not in product.terms:
        raise InvalidInput.saying(f"分期方案 {product_code} 不提供 {term} 期（可选：{product.terms}）",
                                  f"term {term} is not offered by product {product_code} ({product.terms})")
    today = business_date(session)
    start = start_date or today
    if start < today:
        raise InvalidInput.saying(f"起始日期 {start} 早于营业日 {today}",
                                  f"start date {start} is before the business date {today}")
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
        training=training,
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
    if training:
        keep_in_book(session, loan.id, TRAINING)
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
