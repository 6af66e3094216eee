"""A small book with known histories, written straight into the tables the analytics read (applications,
decisions, down payment orders, handover records, plan views, loans and their daily snapshots), so that
every figure of the funnel, vintage, roll-rate and product tables can be worked out by hand.

Loans (snapshot rows on month ends unless said otherwise):
  L1 EI-12/12  booked 2026-01-10  current throughout                        store S1
  L2 EI-12/12  booked 2026-01-15  Feb 10 dpd, Mar 40, Apr 70               store S1
  L3 EI-12/12  booked 2026-01-20  Feb 20 dpd, Mar current, paid off Apr 12  store S1
  L4 IF/6      booked 2026-02-05  Feb 5 dpd, Mar 35, written off Apr 20 (3,000.00; 500.00 recovered Apr 25)  S2
  L5 IF/6      booked 2026-02-10  current at month ends (12 dpd on Mar 15)  store S2
Applications in March 2026 (times UTC), see `build_funnel`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from fenqi.analytics.models import PlanView
from fenqi.catalog.service import create_merchant, create_store
from fenqi.devices.models import LockDevice
from fenqi.identity.service import create_user
from fenqi.kit.clock import set_business_date
from fenqi.origination.models import Application
from fenqi.payments.models import PaymentOrder
from fenqi.pricing.service import get_product, seed_products
from fenqi.risk.models import RiskDecision
from fenqi.servicing.models import Loan, LoanDayBalance, Repayment

TODAY = date(2026, 4, 30)
PRINCIPAL = {1: 800_000, 2: 700_001, 3: 600_000, 4: 300_000, 5: 333_333}


@dataclass
class Book:
    merchant_id: int
    s1: int
    s2: int
    c1: int
    c2: int
    loans: dict[int, int] = field(default_factory=dict)  # L1..L5 → loan id
    apps: dict[int, int] = field(default_factory=dict)  # A1..A6 → application id


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def build(session: Session, suffix: str = "") -> Book:
    set_business_date(session, TODAY)
    seed_products(session)
    m = create_merchant(session, code=f"AM{suffix}", name="分析数码", region="31", fee_rate=Decimal("0.02"))
    s1 = create_store(session, merchant_id=m.id, code=f"AS1{suffix}", name="分析一店", city="上海")
    s2 = create_store(session, merchant_id=m.id, code=f"AS2{suffix}", name="分析二店", city="上海")
    c1 = create_user(session, role="clerk", display_name="店员甲", merchant_id=m.id)
    c2 = create_user(session, role="clerk", display_name="店员乙", merchant_id=m.id)
    book = Book(m.id, s1.id, s2.id, c1.id, c2.id)
    build_loans(session, book)
    build_funnel(session, book)
    session.flush()
    return book


def _loan(session: Session, n: int, code: str, term: int, booked: date, **extra: Any) -> Loan:
    product = get_product(session, code)
    loan = Loan(external_ref=f"AN-{n}-{booked}-{id(session)}", product_id=product.id, method=product.method,
                financed_fen=PRINCIPAL[n], price_fen=PRINCIPAL[n] + 100_000, term=term, start_date=booked,
                booked_on=booked, cob_date=TODAY, cur_period_start=booked, **extra)
    session.add(loan)
    session.flush()
    return loan


def _snap(session: Session, loan: Loan, day: date, dpd: int = 0, status: str = "", principal: int | None = None,
          written_off: int = 0) -> None:
    session.add(LoanDayBalance(
        business_date=day, loan_id=loan.id, status=status or ("overdue" if dpd else "active"), dpd=dpd,
        bucket="current", principal_fen=loan.financed_fen if principal is None else principal,
        interest_accrued_fen=0, interest_receivable_fen=0, fee_accrued_fen=0, fee_receivable_fen=0, penalty_fen=0,
        credit_fen=0, written_off_fen=written_off))


JAN, FEB, MAR, APR = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)


def build_loans(session: Session, book: Book) -> None:
    l1 = _loan(session, 1, "EI-12", 12, date(2026, 1, 10), apr=Decimal("0.12"))
    l2 = _loan(session, 2, "EI-12", 12, date(2026, 1, 15), apr=Decimal("0.12"), status="overdue", dpd=70)
    l3 = _loan(session, 3, "EI-12", 12, date(2026, 1, 20), apr=Decimal("0.12"), status="paid_off",
               closed_on=date(2026, 4, 12))
    l4 = _loan(session, 4, "IF-MERCHANT", 6, date(2026, 2, 5), status="written_off", closed_on=date(2026, 4, 20),
               written_off_fen=300_000)
    l5 = _loan(session, 5, "IF-MERCHANT", 6, date(2026, 2, 10))
    book.loans = {1: l1.id, 2: l2.id, 3: l3.id, 4: l4.id, 5: l5.id}
    for day in (JAN, FEB, MAR, APR):
        _snap(session, l1, day)
    for day, dpd in ((JAN, 0), (FEB, 10), (MAR, 40), (APR, 70)):
        _snap(session, l2, day, dpd)
    for day, dpd in ((JAN, 0), (FEB, 20), (MAR, 0)):
        _snap(session, l3, day, dpd)
    _snap(session, l3, date(2026, 4, 12), status="paid_off", principal=0)
    _snap(session, l4, FEB, 5)
    _snap(session, l4, MAR, 35)
    _snap(session, l4, date(2026, 4, 20), 55, status="written_off", principal=0, written_off=300_000)
    session.add(Repayment(payment_ref=f"AN-REC-{l4.id}", loan_id=l4.id, channel="alipay", purpose="recovery",
                          amount_fen=50_000, business_date=date(2026, 4, 25), recovery_fen=50_000))
    _snap(session, l5, FEB)
    _snap(session, l5, date(2026, 3, 15), 12)
    _snap(session, l5, MAR)
    _snap(session, l5, APR)


def _app(session: Session, book: Book, n: int, *, store: int, clerk: int | None, price: int, product: str,
         term: int, created: datetime, status: str, outcome: str, down: int = 100_000, apr: str = "0.12",
         **extra: Any) -> Application:
    app = Application(
        status=status, channel="store" if clerk else "online", merchant_id=book.merchant_id, store_id=store,
        region="310104", created_by_user_id=clerk, business_date=created.date(), name_enc="x", id_number_enc="x",
        id_hash=f"an-{n}-{id(book)}", phone_enc="x", phone_hash=f"an-{n}", bank_card_enc="x", age=30, profile={},
        sku_code="AN-SKU", price_fen=price, product_code=product, method="equal-installment", term=term,
        down_payment_fen=down, financed_fen=price - down, installment_fen=1, apr=Decimal(apr), outcome=outcome,
        created_at=created, **extra)
    session.add(app)
    session.flush()
    book.apps[n] = app.id
    return app


def _decision(session: Session, app: Application, outcome: str, decided_at: datetime, review: str = "none",
              reviewed_at: datetime | None = None) -> None:
    d = RiskDecision(application_id=app.id, merchant_id=app.merchant_id, id_hash=app.id_hash,
                     phone_hash=app.phone_hash, outcome=outcome, score=600, probability_of_default="0.05",
                     allowed_plans=[], reasons=[], rules_fired=[], points={}, inputs={}, facts={},
                     model_version="t", rules_version="t", decided_at=decided_at, review_status=review,
                     reviewed_at=reviewed_at)
    session.add(d)
    session.flush()
    app.decision_id = d.id


def _order(session: Session, app: Application, status: str, paid_at: datetime | None = None) -> None:
    session.add(PaymentOrder(
        out_trade_no=f"AN{app.id:08d}{status[:2]}", channel="alipay", purpose="down_payment",
        amount_fen=app.down_payment_fen, subject="首付", status=status, application_id=app.id,
        business_date=app.business_date, expires_at=app.created_at + timedelta(hours=2), paid_at=paid_at,
        failure_reason="expired" if status == "closed" else ""))


def _view(session: Session, n: int, *, price: int, store: int | None = None, clerk: int | None = None) -> None:
    for _ in range(n):
        session.add(PlanView(business_date=date(2026, 3, 10), channel="store" if clerk else "online",
                             store_id=store, clerk_user_id=clerk, price_fen=price))


def build_funnel(session: Session, book: Book) -> None:
    s1, s2, c1, c2 = book.s1, book.s2, book.c1, book.c2
    a1 = _app(session, book, 1, store=s1, clerk=c1, price=599_900, product="EI-12", term=12, created=at(2, 2),
              status="signed", outcome="approve", signed_at=at(2, 2, 11), down_payment_paid=True,
              loan_id=book.loans[1], subsidy_fen=0, funder_rate=Decimal("0.08"))
    _decision(session, a1, "approve", at(2, 2, 1))
    _order(session, a1, "paid", at(2, 2, 13))
    session.add(LockDevice(loan_id=book.loans[1], imei="860000000000001", created_at=at(2, 2, 12)))
    a2 = _app(session, book, 2, store=s1, clerk=c1, price=599_900, product="EI-12", term=12, created=at(3, 3),
              status="signed", outcome="approve", signed_at=at(3, 3, 23), down_payment_paid=True,
              loan_id=book.loans[2], funder_rate=Decimal("0.08"))
    _decision(session, a2, "approve", at(3, 3, 3))
    _order(session, a2, "closed")  # a first order expired; the second was paid
    session.flush()
    session.add(PaymentOrder(
        out_trade_no=f"AN{a2.id:08d}p2", channel="alipay", purpose="down_payment", amount_fen=a2.down_payment_fen,
        subject="首付", status="paid", application_id=a2.id, business_date=a2.business_date,
        expires_at=at(3, 5), paid_at=at(3, 3, 33)))
    session.add(LockDevice(loan_id=book.loans[2], imei="860000000000002", created_at=at(3, 3, 43)))
    a3 = _app(session, book, 3, store=s1, clerk=c1, price=199_900, product="IF-MERCHANT", term=6,
              created=at(4, 4), status="declined", outcome="decline", apr="0",
              reasons=[{"code": "R_TEST", "zh": "测试拒绝", "en": "Test decline"}])
    _decision(session, a3, "decline", at(4, 4, 0, 30))
    a4 = _app(session, book, 4, store=s2, clerk=c2, price=599_900, product="IF-MERCHANT", term=6,
              created=at(5, 5), status="signed", outcome="refer", signed_at=at(5, 7, 30), down=50_000, apr="0",
              loan_id=book.loans[4], subsidy_fen=12_000, funder_rate=Decimal("0.08"))
    _decision(session, a4, "refer", at(5, 5), review="approved", reviewed_at=at(5, 7))
    _order(session, a4, "closed")
    a5 = _app(session, book, 5, store=s1, clerk=None, price=899_900, product="EI-12", term=12, created=at(6, 6),
              status="referred", outcome="refer")
    _decision(session, a5, "refer", at(6, 6), review="pending")
    a6 = _app(session, book, 6, store=s2, clerk=None, price=399_900, product="EI-12", term=6, created=at(7, 7),
              status="approved", outcome="approve")
    _decision(session, a6, "approve", at(7, 7, 1))
    # Outside the period: not counted.
    _app(session, book, 7, store=s1, clerk=c1, price=599_900, product="EI-12", term=12,
         created=datetime(2026, 2, 27, 3, tzinfo=UTC), status="declined", outcome="decline")
    _view(session, 3, price=599_900, store=s1, clerk=c1)
    _view(session, 1, price=199_900, store=s1, clerk=c1)
    _view(session, 1, price=599_900, store=s2, clerk=c2)
    _view(session, 1, price=899_900)
    _view(session, 2, price=399_900)
