"""Finance clears a return's refund that was handed to a person (需人工处理: the channel refused it for good,
or it failed MAX_ATTEMPTS times). Three ways, each audited, each allowed only while the refund waits for a
person (so a double submit, or two finance users at once, act once — the case is locked first):

- settle: finance paid the shopper back outside the channel (a bank transfer, with its reference). Payments
  records it against the order (so no channel refund can pay the same money again) and posts the same two
  halves a channel refund posts, the payout from the bank account.
- retry: the refund goes to the channel again under a new attempt number (a new refund id), now.
- cancel: the refund is not made (e.g. the shopper was paid back by the store, or declines it), with a
  reason. A refund waiting for a person never reserved or paid anything — every refused or failed attempt
  left the ledger untouched — so nothing is reversed: the money stays where the return left it (the merchant
  payable for a down payment, the shopper's credit balance for a loan's money), and the case's refund total
  no longer counts it.

The case completes once none of its refunds is still open.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.aftersales.cases import event, get_case, notify_shopper, of_book
from fenqi.aftersales.errors import RefundNotFound, RefundNotManual
from fenqi.aftersales.models import AftersalesCase, CaseRefund
from fenqi.aftersales.returns import run_refunds
from fenqi.identity.service import audit
from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import fmt_fen as yuan
from fenqi.payments.refunds import settle_outside

MAX_TEXT = 64


def manual_ref(item: CaseRefund) -> str:
    """The payments reference of a refund settled outside the channel (one per case refund)."""
    return f"aftersales:{item.case_id}:{item.out_trade_no}:bank"


def waiting(session: Session, limit: int = 200) -> list[tuple[CaseRefund, AftersalesCase]]:
    """Refunds waiting for a person, oldest first (the real business only: practice never reaches one)."""
    rows = session.execute(select(CaseRefund, AftersalesCase).join(AftersalesCase,
                                                                   AftersalesCase.id == CaseRefund.case_id)
                           .where(CaseRefund.status == "manual", of_book(AftersalesCase.merchant_id, False))
                           .order_by(CaseRefund.updated_at, CaseRefund.id).limit(limit))
    return [(item, case) for item, case in rows]


def _text(value: str, what_zh: str, what_en: str, *, longest: int = MAX_TEXT) -> str:
    cleaned = " ".join(str(value).split())
    if not cleaned or len(cleaned) > longest:
        raise InvalidInput(f"{what_en} (1-{longest})", zh=f"请填写{what_zh}（1至{longest}个字）",
                           en=f"Give the {what_en} (1 to {longest} characters)")
    return cleaned


def _locked(session: Session, refund_id: int) -> tuple[CaseRefund, AftersalesCase]:
    """The case first (every step of a return locks it, then its refunds), then the refund, read afresh."""
    case_id = session.scalar(select(CaseRefund.case_id).where(CaseRefund.id == refund_id))
    if case_id is None:
        raise RefundNotFound(str(refund_id))
    case = get_case(session, case_id, lock=True)
    item = session.scalar(select(CaseRefund).where(CaseRefund.id == refund_id).with_for_update()
                          .execution_options(populate_existing=True))
    assert item is not None
    return item, case


def _must_wait(item: CaseRefund) -> None:
    if item.status != "manual":
        raise RefundNotManual(item.status)


def settle(session: Session, refund_id: int, *, reference: str, actor_user_id: int) -> CaseRefund:
    """Finance paid it back by bank transfer `reference`: booked, and the refund done."""
    reference = _text(reference, "转账凭证号", "transfer reference")
    item, case = _locked(session, refund_id)
    _must_wait(item)
    paid = settle_outside(session, out_trade_no=item.out_trade_no, amount_fen=item.amount_fen,
                          refund_ref=manual_ref(item), reference=reference, reason=f"退货退款 售后单{case.id} 银行转账")
    item.status, item.out_refund_no, item.last_error = "settled", paid.out_refund_no, ""
    event(session, f"case:{case.id}", "refund_settled", f"{yuan(item.amount_fen)}元已由财务通过银行转账退回",
          f"{yuan(item.amount_fen)} yuan paid back by bank transfer by finance", actor=actor_user_id)
    audit(session, actor_user_id=actor_user_id, action="aftersales.refund.settled", subject=f"case:{case.id}",
          detail=f"refund:{item.id} {item.amount_fen} fen bank {reference}")
    notify_shopper(session, case.application_id, "aftersales.refund_settled",
                   f"【分期】售后单{case.id}的{yuan(item.amount_fen)}元退款已通过银行转账退回，请留意到账")
    session.flush()
    run_refunds(session, case)
    return item


def retry(session: Session, refund_id: int, *, actor_user_id: int) -> CaseRefund:
    """Ask the channel again, now, under the next attempt number."""
    item, case = _locked(session, refund_id)
    _must_wait(item)
    item.attempt += 1  # a new refund id: the channel answers a refused one the same way again
    item.status, item.last_error = "pending", ""
    event(session, f"case:{case.id}", "refund_retried", f"财务已重新发起{yuan(item.amount_fen)}元退款",
          f"Finance asked the channel again for the {yuan(item.amount_fen)} yuan refund", actor=actor_user_id)
    audit(session, actor_user_id=actor_user_id, action="aftersales.refund.retried", subject=f"case:{case.id}",
          detail=f"refund:{item.id} attempt {item.attempt}")
    session.flush()
    run_refunds(session, case)
    return item


def cancel(session: Session, refund_id: int, *, reason: str, actor_user_id: int) -> CaseRefund:
    """Do not make this refund (with a reason): nothing to reverse, the case's refund total drops it."""
    reason = _text(reason, "取消原因", "reason", longest=120)
    item, case = _locked(session, refund_id)
    _must_wait(item)
    item.status, item.last_error = "cancelled", f"已取消：{reason}"[:200]
    case.refund_fen -= item.amount_fen
    event(session, f"case:{case.id}", "refund_cancelled", f"{yuan(item.amount_fen)}元退款已由财务取消：{reason}",
          f"The {yuan(item.amount_fen)} yuan refund was cancelled by finance: {reason}", actor=actor_user_id)
    audit(session, actor_user_id=actor_user_id, action="aftersales.refund.cancelled", subject=f"case:{case.id}",
          detail=f"refund:{item.id} {item.amount_fen} fen: {reason}"[:500])
    session.flush()
    run_refunds(session, case)
    return item
