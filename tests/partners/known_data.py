"""Known data for the scorecard and pilot tests: rows written with chosen times and amounts, so every measured
indicator has one right value (worked out by hand in test_scorecard.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.aftersales.models import Complaint
from fenqi.catalog.models import Store
from fenqi.funding.models import Disbursement, Funder
from fenqi.origination.models import Application
from fenqi.partners import service
from fenqi.partners.schemas import ContractIn, LicenceIn, PartnerIn
from fenqi.payments.models import CallbackInbox, PaymentOrder, PaymentRefund, ReconciliationRun
from fenqi.risk.models import RiskDecision
from tests.origination.world import TODAY, World

AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # inside the 90-day window ending TODAY
OLD = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # outside it
_seq = count(1)


def register(session: Session, code: str, name: str, role: str, *, funder_code: str | None = None,
             channel: str | None = None, terms: dict[str, object] | None = None) -> None:
    service.create_partner(session, PartnerIn(code=code, name=name, role=role, status="contracted",
                                              funder_code=funder_code, channel=channel))
    kind = "financial" if role == "funder" else "payment"
    service.add_licence(session, code, LicenceIn(kind=kind, number=f"L-{code}", valid_from=TODAY - timedelta(400),
                                                 expires_on=TODAY + timedelta(400)))
    service.add_contract(session, code, ContractIn(reference=f"C-{code}", starts_on=TODAY - timedelta(100),
                                                   ends_on=TODAY + timedelta(300), terms=terms or {}))


def order(session: Session, channel: str, status: str, *, created: datetime = AT, agreement: bool = False,
          callback_after_s: float | None = None) -> PaymentOrder:
    n = next(_seq)
    paid_at = created + timedelta(minutes=1) if status in ("paid", "refunded") else None
    row = PaymentOrder(out_trade_no=f"KD{n:08d}", channel=channel, purpose="installment", amount_fen=10_000,
                       subject="月供", status=status, business_date=created.date(), expires_at=created + timedelta(1),
                       paid_at=paid_at, created_at=created, agreement_id=None)
    session.add(row)
    session.flush()
    if agreement:
        from fenqi.payments.models import PaymentAgreement

        ag = PaymentAgreement(channel=channel, external_no=f"AG{n:08d}", loan_id=n, status="active")
        session.add(ag)
        session.flush()
        row.agreement_id = ag.id
    if callback_after_s is not None and paid_at is not None:
        session.add(CallbackInbox(channel=channel, event_id=f"pay:{n}", kind="payment", source="callback",
                                  out_trade_no=row.out_trade_no, status="processed",
                                  received_at=paid_at + timedelta(seconds=callback_after_s)))
    session.flush()
    return row


def payment_data(session: Session) -> None:
    """Alipay: 10 finished orders in the window (8 paid, 1 failed, 1 closed; 3 under an agreement, 2 paid),
    callbacks 1,2,3,4,5,6,7,100 s after payment, 2 signature failures, refunds done in 60/120/600 s,
    3 discrepancies in 1,000 statement lines. WeChat Pay: 4 of 4 paid."""
    delays = [1, 2, 3, 4, 5, 6, 7, 100]
    paid = [order(session, "alipay", "paid", agreement=i < 2, callback_after_s=d) for i, d in enumerate(delays)]
    order(session, "alipay", "failed", agreement=True)
    order(session, "alipay", "closed")
    order(session, "alipay", "pending")  # not finished: not counted
    old = order(session, "alipay", "paid", created=OLD, callback_after_s=900)  # outside the window
    session.add(CallbackInbox(channel="alipay", event_id="poll:1", kind="payment", source="poll",
                              out_trade_no=paid[0].out_trade_no, status="processed", received_at=AT))
    for i, when in enumerate((AT, AT + timedelta(hours=1), OLD)):
        session.add(CallbackInbox(channel="alipay", event_id=f"forged:k{i}", kind="forged", source="callback",
                                  out_trade_no="", status="forged", received_at=when))
    for i, secs in enumerate((60, 120, 600)):
        session.add(PaymentRefund(refund_ref=f"kr{i}", out_refund_no=f"KR{i}", order_id=paid[i].id, amount_fen=100,
                                  reason="退货", status="succeeded", created_at=AT,
                                  succeeded_at=AT + timedelta(seconds=secs)))
    session.add(PaymentRefund(refund_ref="kr9", out_refund_no="KR9", order_id=paid[3].id, amount_fen=100,
                              reason="退货", status="processing", created_at=AT))
    session.add(PaymentRefund(refund_ref="kr8", out_refund_no="KR8", order_id=old.id, amount_fen=100,
                              reason="退货", status="succeeded", created_at=OLD, succeeded_at=OLD + timedelta(1)))
    session.add(ReconciliationRun(channel="alipay", day=date(2026, 11, 19), lines=600, matched=598, discrepancies=2))
    session.add(ReconciliationRun(channel="alipay", day=date(2026, 11, 20), lines=400, matched=399, discrepancies=1))
    session.add(ReconciliationRun(channel="alipay", day=date(2026, 1, 5), lines=50, matched=40, discrepancies=10))
    for _ in range(4):
        order(session, "wechat", "paid")
    session.flush()


def _decision(session: Session, at: datetime) -> int:
    row = RiskDecision(decided_at=at, id_hash="h", phone_hash="h", outcome="approve", score=600,
                       probability_of_default="0.02", grade="B", credit_limit_fen=0, allowed_plans=[], reasons=[],
                       rules_fired=[], points={}, inputs={}, facts={}, model_version="t", rules_version="t")
    session.add(row)
    session.flush()
    return row.id


def application(session: Session, world: World, funder: str, *, signed: bool, limit_yuan: int, decided_after_s: int,
                financed_fen: int = 100_000, installment_fen: int = 9_000, term: int = 12,
                on: date = TODAY - timedelta(days=8), app_id: int | None = None) -> Application:
    n = next(_seq)
    store_id = session.scalar(select(Store.id).where(Store.code == world.store))
    submitted = AT - timedelta(days=1)
    app = Application(
        status="signed" if signed else "cancelled", merchant_id=world.merchant_id, store_id=store_id, region="31",
        business_date=on, name_enc="x", id_number_enc="x", id_hash=f"k{n}", phone_enc="x", phone_hash=f"k{n}",
        bank_card_enc="x", age=30, profile={}, sku_code=world.sku, price_fen=financed_fen, product_code="EI-12",
        method="equal-installment", term=term, down_payment_fen=0, financed_fen=financed_fen,
        installment_fen=installment_fen, apr=Decimal("0.1"), outcome="approve", grade="B",
        credit_limit_fen=limit_yuan * 100, funder_code=funder, loan_id=900_000 + n if signed else None,
        decision_id=_decision(session, submitted + timedelta(seconds=decided_after_s)), created_at=submitted,
    )
    if app_id is not None:
        app.id = app_id
    session.add(app)
    session.flush()
    return app


def disbursement(session: Session, app: Application, fee_fen: int, subsidy_fen: int) -> None:
    funder_id = session.scalar(select(Funder.id).where(Funder.code == app.funder_code))
    assert funder_id is not None
    session.add(Disbursement(application_id=app.id, loan_id=app.loan_id, funder_id=funder_id,
                             merchant_id=app.merchant_id, business_date=app.business_date, price_fen=app.price_fen,
                             down_payment_fen=0, financed_fen=app.financed_fen, subsidy_fen=subsidy_fen,
                             merchant_fee_fen=fee_fen, amount_fen=app.financed_fen - fee_fen - subsidy_fen,
                             journal_ref=f"kd:{app.id}"))


def complaint(session: Session, loan_id: int | None, resolved_after_s: int | None) -> None:
    session.add(Complaint(shopper_user_id=1, loan_id=loan_id, category="fees", text="费用有疑问", created_at=AT,
                          respond_by=AT + timedelta(1), resolve_by=AT + timedelta(7),
                          resolved_at=None if resolved_after_s is None else AT + timedelta(seconds=resolved_after_s),
                          status="open" if resolved_after_s is None else "resolved"))


def funder_data(session: Session, world: World) -> None:
    """FA: 4 routed (3 signed), limits ¥10,000–40,000, decisions in 10/20/30/40 s, shopper cost ¥154 on
    ¥2,000 financed, merchant fees and subsidy ¥46, 3 complaints (resolved in 1 h and 2 h, one open).
    FB: 2 routed, both signed, limits ¥5,000, decisions in 100/300 s."""
    a1 = application(session, world, "FA", signed=True, limit_yuan=10_000, decided_after_s=10,
                     financed_fen=120_000, installment_fen=11_000)
    a2 = application(session, world, "FA", signed=True, limit_yuan=20_000, decided_after_s=20,
                     financed_fen=60_000, installment_fen=5_250)
    a3 = application(session, world, "FA", signed=True, limit_yuan=30_000, decided_after_s=30,
                     financed_fen=20_000, installment_fen=1_700)
    application(session, world, "FA", signed=False, limit_yuan=40_000, decided_after_s=40)
    application(session, world, "FA", signed=True, limit_yuan=99_000, decided_after_s=999, on=date(2026, 1, 5))
    disbursement(session, a1, 2_400, 0)
    disbursement(session, a2, 1_200, 600)
    disbursement(session, a3, 400, 0)
    b1 = application(session, world, "FB", signed=True, limit_yuan=5_000, decided_after_s=100)
    application(session, world, "FB", signed=True, limit_yuan=5_000, decided_after_s=300)
    disbursement(session, b1, 1_000, 0)
    complaint(session, a1.loan_id, 3_600)
    complaint(session, a1.loan_id, None)
    complaint(session, a2.loan_id, 7_200)
    complaint(session, None, 60)  # about no loan: no funder's
    session.flush()
