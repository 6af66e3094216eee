"""Payment orders and their settlement.

    order = create_order(session, purpose="installment", amount_fen=52_300, channel="alipay",
                         subject="iPhone 16 第3期", loan_id=loan.id)
    order.pay_url  # the shopper opens it and pays on the channel's cashier page

Other domains react to a paid order through handlers registered at start-up
(`fenqi.payments.handlers`, wired by `fenqi.wiring.install()`).

A paid order is settled exactly once, whether the news comes from a notification (any number of
copies, in any order), from polling, or from an auto-debit's synchronous answer: every such event
goes through the inbox (`fenqi.payments.inbox`) and the order's status changes with a guarded UPDATE.
Services never commit; the request or job boundary does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Result, Table, bindparam, case, literal, select, update
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.kit.db import UtcDateTime, utcnow
from fenqi.kit.errors import InvalidInput
from fenqi.kit.ids import new_id
from fenqi.kit.log import log
from fenqi.kit.money import from_fen
from fenqi.ledger import Account, Line, Reason, cash_account, post_entry
from fenqi.payments import handlers, servicing_port
from fenqi.payments.channels import CHANNELS, get_channel
from fenqi.payments.errors import (
    InvalidPaymentAmount,
    InvalidPlatformInstallments,
    LoanRequired,
    OrderNotFound,
    PayeeNotFound,
    UnknownChannel,
    UnknownPurpose,
)
from fenqi.payments.models import PaymentOrder
from fenqi.payments.settings import get_payment_settings
from fenqi.pricing.platform import HB_TERMS, SELLER_PERCENTS, fee_fen

PURPOSES = handlers.PURPOSES
SCENES = ("page", "h5", "qr")  # desktop page, mobile browser, QR code
OPEN = ("pending",)
# A payment that arrives for an order we closed or saw fail is still the shopper's money: apply it.
PAYABLE = ("pending", "closed", "failed")
MAX_AMOUNT_FEN = 10_000_000_00  # ten million yuan: far above any phone, below any overflow


def _validate(purpose: str, channel: str, amount_fen: int, loan_id: int | None) -> None:
    if purpose not in PURPOSES:
        raise UnknownPurpose(purpose)
    if channel not in CHANNELS:
        raise UnknownChannel(channel)
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or not 0 < amount_fen <= MAX_AMOUNT_FEN:
        raise InvalidPaymentAmount(f"{amount_fen!r} fen")
    if purpose in ("installment", "payoff") and loan_id is None:
        raise LoanRequired()


def new_out_trade_no() -> str:
    # Time-ordered, 29 characters of [0-9A-Z_]: valid for both channels (Alipay ≤ 64, WeChat ≤ 32).
    return new_id("FQ")


def create_order(
    session: Session,
    *,
    purpose: str,
    amount_fen: int,
    channel: str,
    subject: str,
    loan_id: int | None = None,
    application_id: int | None = None,
    return_url: str = "",
    agreement_id: int | None = None,
    attempt: int = 1,
    due_date: object = None,
    scene: str = "page",
    hb_fq_num: int | None = None,
    hb_fq_seller_percent: int = 0,
    training: bool = False,
) -> PaymentOrder:
    """Open a payment order and its trade on the channel; `pay_url` is where the shopper pays.

    `hb_fq_num` (3/6/12): the shopper pays a down payment with 花呗分期 on Alipay; who pays the
    platform's fee is `hb_fq_seller_percent` (0 the shopper, 100 the merchant — the merchant's setting).

    `training`: a training store's practice order (培训模式). It opens no trade on any channel; its page
    offers the clerk a practice payment instead (`pay_training_order`).

    The channel is asked only after the order row exists, and a refusal raises (ChannelError), so
    the caller's transaction rolls back: no order without a trade, no trade we have no record of
    beyond an unpaid one that expires on its own.
    """
    _validate(purpose, channel, amount_fen, loan_id)
    if scene not in SCENES:
        raise InvalidInput.saying(f"支付场景 {scene!r} 无效（{' | '.join(SCENES)}）",
                                  f"scene {scene!r}: {' | '.join(SCENES)}")
    hb_fee = _platform_fee(purpose, channel, amount_fen, agreement_id, hb_fq_num, hb_fq_seller_percent)
    # Never a trade at the cashier for something that does not exist.
    if loan_id is not None and not servicing_port.loan_exists(session, loan_id):
        raise PayeeNotFound(f"loan {loan_id}")
    if application_id is not None and handlers.application_due(session, application_id) is None:
        raise PayeeNotFound(f"application {application_id}")
    settings = get_payment_settings()
    order = PaymentOrder(
        out_trade_no=new_out_trade_no(), channel=channel, purpose=purpose, amount_fen=amount_fen,
        subject=(subject or purpose)[:128], loan_id=loan_id, application_id=application_id,
        agreement_id=agreement_id, attempt=attempt, due_date=due_date, business_date=business_date(session),
        expires_at=utcnow() + timedelta(minutes=settings.payment_order_ttl_minutes), status="pending",
        hb_fq_num=hb_fq_num, hb_fq_seller_percent=hb_fq_seller_percent if hb_fq_num else 0, hb_fee_fen=hb_fee,
        training=training,
    )
    session.add(order)
    session.flush()
    if training:
        order.pay_url = order_page_url(order.out_trade_no)
        session.flush()
    elif agreement_id is None:
        order.pay_url = get_channel(channel).create_payment(
            out_trade_no=order.out_trade_no, amount_fen=amount_fen, subject=order.subject,
            expire_at=order.expires_at, return_url=return_url or order_page_url(order.out_trade_no), scene=scene,
            hb_fq=(hb_fq_num, order.hb_fq_seller_percent) if hb_fq_num else None,
        )
        session.flush()
    log.info("payments.order.created", out_trade_no=order.out_trade_no, channel=channel, purpose=purpose,
             amount_fen=amount_fen)
    return order


def _platform_fee(purpose: str, channel: str, amount_fen: int, agreement_id: int | None, term: int | None,
                  seller_percent: int) -> int:
    """The 花呗分期 fee our fee table expects (0 for a plain payment); refuses what Alipay would."""
    if term is None:
        return 0
    if channel != "alipay" or purpose not in ("down_payment", "sale") or agreement_id is not None:
        raise InvalidPlatformInstallments(f"{channel} {purpose}")
    if term not in HB_TERMS or seller_percent not in SELLER_PERCENTS:
        raise InvalidPlatformInstallments(f"hb_fq_num={term} hb_fq_seller_percent={seller_percent}")
    return fee_fen(amount_fen, term, get_payment_settings().hb_fee_rates())


def order_page_url(out_trade_no: str) -> str:
    return f"{get_payment_settings().base_url.rstrip('/')}/payments/orders/{out_trade_no}"


def get_order(session: Session, out_trade_no: str, *, lock: bool = False) -> PaymentOrder:
    q = select(PaymentOrder).where(PaymentOrder.out_trade_no == out_trade_no)
    if lock:
        q = q.with_for_update()
    order = session.scalar(q)
    if order is None:
        raise OrderNotFound(out_trade_no)
    return order


def find_order(session: Session, out_trade_no: str) -> PaymentOrder | None:
    return session.scalar(select(PaymentOrder).where(PaymentOrder.out_trade_no == out_trade_no))


def loan_orders(session: Session, loan_id: int, limit: int = 50) -> list[PaymentOrder]:
    """A loan's payment orders, newest first (the shopper's payment history and latest payment)."""
    q = select(PaymentOrder).where(PaymentOrder.loan_id == loan_id).order_by(PaymentOrder.id.desc()).limit(limit)
    return list(session.scalars(q))


# -- settlement --------------------------------------------------------------------------------


def _rowcount(result: Result[Any]) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def _claim_statement() -> Any:
    """Built once: the hot path of every payment event (a cached, parameterised statement)."""
    t = cast(Table, PaymentOrder.__table__)
    prefix = case((t.c.purpose.in_(("down_payment", "sale")), literal("payment:")), else_=literal("repayment:"))
    return select(PaymentOrder).from_statement(
        update(t)
        .where(t.c.out_trade_no == bindparam("p_no"), t.c.channel == bindparam("p_channel"),
               t.c.status.in_(PAYABLE), t.c.amount_fen == bindparam("p_amount"))
        .values(status="paid", trade_no=bindparam("p_trade_no"),
                paid_at=bindparam("p_paid_at", type_=UtcDateTime()), paid_amount_fen=bindparam("p_amount"),
                updated_at=bindparam("p_now", type_=UtcDateTime()), settlement_key=prefix + t.c.out_trade_no)
        .returning(*t.c)
    ).execution_options(populate_existing=True)


_CLAIM = _claim_statement()


def claim_paid(session: Session, out_trade_no: str, channel: str, *, trade_no: str, paid_at: datetime | None,
               amount_fen: int) -> PaymentOrder | None:
    """pending/closed/failed → paid in one guarded UPDATE ... RETURNING: the order if this call made
    it paid (for exactly this channel and amount), None otherwise (already paid, unknown, or another
    amount — the caller looks at why). Concurrent claims of one order: only one gets the row."""
    now = utcnow()
    params = {"p_no": out_trade_no, "p_channel": channel, "p_amount": amount_fen, "p_trade_no": trade_no,
              "p_paid_at": paid_at or now, "p_now": now}
    return session.scalars(_CLAIM, params).one_or_none()


def mark_paid(session: Session, order: PaymentOrder, *, trade_no: str, paid_at: datetime | None,
              amount_fen: int) -> bool:
    """Claim and settle an order directly, without an inbox event (simulations, back-office tools).
    Channel events must go through `fenqi.payments.inbox.process`. False if it was not claimable."""
    claimed = claim_paid(session, order.out_trade_no, order.channel, trade_no=trade_no, paid_at=paid_at,
                         amount_fen=amount_fen)
    if claimed is None:
        return False
    settle(session, claimed)
    return True


def pay_training_order(session: Session, out_trade_no: str) -> PaymentOrder:
    """The practice payment of a training store's order (培训模式): settled here as if the shopper had
    paid, with no channel involved. Any other order is refused."""
    order = find_order(session, out_trade_no)
    if order is None or not order.training:
        raise PayeeNotFound(f"training order {out_trade_no}")
    if order.status == "pending":
        mark_paid(session, order, trade_no=f"TRAINING-{order.out_trade_no}"[:64], paid_at=utcnow(),
                  amount_fen=order.amount_fen)
    return order


def settle(session: Session, order: PaymentOrder) -> None:
    """Put a just-claimed paid order's money where it belongs: the loan (servicing posts the entry) or,
    for a down payment or an outright sale, Dr cash clearing / Cr merchant payable (under the order's
    settlement key); then the registered handlers."""
    amount = order.paid_amount_fen or order.amount_fen
    if order.purpose in ("installment", "payoff"):
        assert order.loan_id is not None
        servicing_port.apply_repayment(session, loan_id=order.loan_id, amount_fen=amount,
                                       payment_ref=order.out_trade_no, channel=order.channel, purpose=order.purpose)
    else:
        post_entry(
            session, reason=Reason.SALE if order.purpose == "sale" else Reason.DOWN_PAYMENT,
            idempotency_key=order.settlement_key, loan_id=order.loan_id,
            payment_ref=order.out_trade_no, memo=f"{order.channel} {order.trade_no}",
            lines=[Line.dr(cash_account(order.channel), amount), Line.cr(Account.MERCHANT_PAYABLE, amount)],
        )
        fee = order.hb_merchant_fee_fen
        if fee:  # 花呗分期 the merchant pays for: Alipay settles the amount less its fee
            post_entry(
                session, reason=Reason.PLATFORM_INSTALLMENT_FEE, idempotency_key=f"hbfee:{order.out_trade_no}",
                loan_id=order.loan_id, payment_ref=order.out_trade_no,
                memo=f"花呗分期{order.hb_fq_num}期 {order.channel} {order.trade_no}",
                lines=[Line.dr(Account.PLATFORM_INSTALLMENT_FEE, fee), Line.cr(cash_account(order.channel), fee)],
            )
    for handler in handlers.paid_handlers(order.purpose):
        handler(session, order)
    log.info("payments.order.paid", out_trade_no=order.out_trade_no, channel=order.channel, amount_fen=amount)


def mark_unpaid(session: Session, order: PaymentOrder, status: str, reason: str = "") -> bool:
    """pending → closed | failed (a later payment can still settle it); the purpose's closed handlers run."""
    changed = _rowcount(session.execute(
        update(PaymentOrder)
        .where(PaymentOrder.id == order.id, PaymentOrder.status.in_(OPEN))
        .values(status=status, failure_reason=reason[:120], updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ))
    session.refresh(order)
    if changed:
        for handler in handlers.closed_handlers(order.purpose):
            handler(session, order)
    return bool(changed)


def order_json(order: PaymentOrder) -> dict[str, object]:
    return {
        "out_trade_no": order.out_trade_no, "channel": order.channel, "purpose": order.purpose,
        "amount": str(from_fen(order.amount_fen)), "subject": order.subject, "status": order.status,
        "loan_id": order.loan_id, "application_id": order.application_id, "pay_url": order.pay_url,
        "trade_no": order.trade_no or None, "expires_at": order.expires_at.isoformat(),
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "refunded": str(from_fen(order.refunded_fen)),
        "hb_fq_num": order.hb_fq_num, "hb_fq_seller_percent": order.hb_fq_seller_percent if order.hb_fq_num else None,
        "hb_fee": str(from_fen(order.hb_fee_fen)) if order.hb_fq_num else None,
    }
