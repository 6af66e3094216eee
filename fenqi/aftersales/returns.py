"""The return (退货) workflow: everything the sale did is unwound, step by step, each step idempotent and
recorded on the case (`case.steps`), so a return interrupted anywhere is finished by running it again.

1. loan_cancelled — servicing's `cancel_loan`: the loan owes nothing, its income is reversed, what the
   shopper paid on it becomes their refundable credit balance.
2. disbursement_unwound — funding's `unwind_disbursement`: the funder is owed nothing for the loan; the
   merchant gives back what the funder paid and gets back the subsidy and fee withheld from it.
   coupon_reinstated — a coupon the sale used goes back to the shopper (its cost came back to the
   sponsoring merchant with the disbursement's reversal); promotions' `reinstate`.
3. device_returned — catalog: the phone is "returned" by IMEI, and back "in_stock" when the inspection
   found nothing wrong (otherwise it waits as "returned — inspect").
4. refunds_planned — every payment the shopper made (down payment, installments, payoff) is refunded
   through its own order and channel, less the agreed deductions (taken from the down payment first,
   then from the loan's credit balance, which then goes to the merchant). What the merchant itself credited
   to the loan (a cheaper exchange) goes back to the merchant.
5. refunds — each refund through payments' refund service; a refund the channel refuses is tried again
   (`resume`), under the next attempt number — the job backs off after the third attempt — up to
   MAX_ATTEMPTS; then, or at once when the channel's answer is final (the order unknown or closed there),
   it is marked "manual" (需人工处理): no longer retried, shown on the case and in the operations queue.
   The case completes when all have succeeded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.aftersales.cases import complete, event, notify_shopper, phone_back
from fenqi.aftersales.models import AftersalesCase, CaseRefund, CaseStatus
from fenqi.aftersales.policies import policy_of_case
from fenqi.aftersales.policy import fit_for_stock
from fenqi.catalog.service import get_device
from fenqi.catalog.stock import set_device_status
from fenqi.funding.disbursement import unwind_disbursement
from fenqi.kit.clock import business_date
from fenqi.kit.db import session_scope, utcnow
from fenqi.kit.errors import DomainError
from fenqi.kit.log import log
from fenqi.kit.money import fmt_fen as yuan
from fenqi.payments.errors import RefundRefusedForGood
from fenqi.payments.refunds import find_refund, poll_refund, refund
from fenqi.payments.service import loan_orders
from fenqi.promotions.coupons import reinstate as reinstate_coupon
from fenqi.servicing.merchant_adjustments import withhold_credit
from fenqi.servicing.service import cancel_loan, get_loan

PAID = ("paid", "refunded")
DONE = ("succeeded", "settled", "cancelled")  # settled: by finance outside the channel; cancelled: not made
LEFT_ALONE = (*DONE, "manual")  # never tried again by the job (manual: waits for finance)
MAX_ATTEMPTS = 10  # a refund refused this many times is handed to a person


def _step(session: Session, case: AftersalesCase, name: str) -> bool:
    """True if the step is still to do; marks it done (the caller does it in the same transaction)."""
    if name in case.steps:
        return False
    case.steps = {**case.steps, name: business_date(session).isoformat()}
    return True


def process_return(session: Session, case: AftersalesCase, *, job: bool = False) -> AftersalesCase:
    """Run (or resume) the return of a decided case (`job`: the scheduled retry, which backs off)."""
    if case.outcome != "return" or case.status != CaseStatus.PROCESSING:
        return case
    ref = f"aftersales:{case.id}"
    today = business_date(session)
    if _step(session, case, "loan_cancelled"):
        cancel_loan(session, case.loan_id, return_ref=ref)
        event(session, f"case:{case.id}", "loan_cancelled", "分期贷款已取消，不再产生月供",
              "The installment loan is cancelled: nothing more is due")
    if _step(session, case, "disbursement_unwound"):
        unwind_disbursement(session, loan_id=case.loan_id, on=today)
        event(session, f"case:{case.id}", "disbursement_unwound", "资金方放款已从商户结算中冲回",
              "The funder's disbursement is taken back from the merchant's settlement")
    if _step(session, case, "coupon_reinstated") and reinstate_coupon(session, case.loan_id, on=today):
        event(session, f"case:{case.id}", "coupon_reinstated", "本次分期使用的优惠券已退回您的账户，可再次使用",
              "The coupon used on this sale is back in your account and can be used again")
    if _step(session, case, "device_returned"):
        clean = fit_for_stock(policy_of_case(session, case.policy_id), case.inspection)
        set_device_status(session, imei=case.imei, status="returned")
        if clean:
            set_device_status(session, imei=case.imei, status="in_stock")
        phone_back(session, case, "returned", in_stock=clean)
        event(session, f"case:{case.id}", "device_returned",
              "手机已退回并重新入库" if clean else "手机已退回，待检测（暂不入库）",
              "The phone is back in stock" if clean else "The phone is back, awaiting inspection (not in stock)")
    if _step(session, case, "refunds_planned"):
        _plan_refunds(session, case, ref)
    run_refunds(session, case, job=job)
    return case


def _plan_refunds(session: Session, case: AftersalesCase, ref: str) -> None:
    orders = [o for o in loan_orders(session, case.loan_id, limit=1000) if o.status in PAID]
    left = {o.out_trade_no: (o.paid_amount_fen or o.amount_fen) - o.refunded_fen for o in orders}
    down = [o for o in orders if o.purpose == "down_payment" and left[o.out_trade_no] > 0]
    on_loan = [o for o in orders if o.purpose != "down_payment" and left[o.out_trade_no] > 0]
    # What the merchant paid of the loan (a cheaper exchange's difference) is in the credit balance since the
    # cancellation; it goes back to the merchant, not to the shopper (who gets exactly what they paid).
    merchant = cancel_loan(session, case.loan_id, return_ref=ref).merchant_fen
    if merchant:
        withhold_credit(session, case.loan_id, amount_fen=merchant, ref=f"{ref}:merchant_credit")
        event(session, f"case:{case.id}", "merchant_credit_returned",
              f"换货时商户承担的差价{yuan(merchant)}元退回商户",
              f"The {yuan(merchant)} yuan the merchant credited at the exchange goes back to the merchant")
    credit = get_loan(session, case.loan_id).credit_balance_fen
    down_total = sum(left[o.out_trade_no] for o in down)
    loan_total = min(credit, sum(left[o.out_trade_no] for o in on_loan))
    deduction = min(case.deduction_fen, down_total + loan_total)
    from_down = min(deduction, down_total)
    from_loan = deduction - from_down
    if from_loan:
        withhold_credit(session, case.loan_id, amount_fen=from_loan, ref=f"{ref}:deduction")
    case.deduction_fen = deduction
    items: list[CaseRefund] = []
    for group, total in ((down, down_total - from_down), (on_loan, loan_total - from_loan)):
        for order in sorted(group, key=lambda o: o.id, reverse=True):  # the newest payments first
            amount = min(total, left[order.out_trade_no])
            if amount > 0:
                items.append(CaseRefund(case_id=case.id, out_trade_no=order.out_trade_no, channel=order.channel,
                                        purpose=order.purpose, amount_fen=amount))
                total -= amount
    session.add_all(items)
    case.refund_fen = sum(i.amount_fen for i in items)
    unrefunded = credit - from_loan - (loan_total - from_loan)
    if unrefunded > 0:
        # Paid by bank transfer (no channel order to refund through): finance pays it back by hand.
        case.steps = {**case.steps, "manual_refund_fen": str(unrefunded)}
    session.flush()
    zh_less = f"，扣减{yuan(deduction)}元" if deduction else ""
    en_less = f", {yuan(deduction)} yuan deducted" if deduction else ""
    event(session, f"case:{case.id}", "refunds_planned",
          f"应退{yuan(case.refund_fen)}元（{len(items)}笔，原路退回）{zh_less}",
          f"{yuan(case.refund_fen)} yuan to refund ({len(items)} payment(s), to where they came from){en_less}")


def refund_ref(item: CaseRefund) -> str:
    """Deterministic per attempt: a retried request reaches the channel with the same refund number."""
    return f"aftersales:{item.case_id}:{item.out_trade_no}:{item.attempt}"


def _attempt(session: Session, case: AftersalesCase, item: CaseRefund) -> None:
    ref = refund_ref(item)
    done = find_refund(session, ref)
    if done is None:
        savepoint = session.begin_nested()
        try:
            done = refund(session, out_trade_no=item.out_trade_no, amount_fen=item.amount_fen,
                          reason=f"退货退款 售后单{case.id}", refund_ref=ref)
            savepoint.commit()
        except RefundRefusedForGood as exc:
            savepoint.rollback()  # nothing was refunded or booked
            _to_manual(session, case, item, exc.detail)
            return
        except DomainError as exc:
            # Not reached or not answered: the same refund number is asked again next time (the channel
            # is idempotent by it), so a refund the channel did make is never made twice.
            savepoint.rollback()
            item.status, item.last_error = "pending", exc.message("zh")[:200]
            log.info("aftersales.refund.error", case_id=case.id, error=exc.code)
            return
    elif done.status == "processing":
        poll_refund(session, done)
    item.out_refund_no = done.out_refund_no
    if done.status == "failed":
        if item.attempt >= MAX_ATTEMPTS:
            _to_manual(session, case, item, f"{item.attempt} attempts")
            return
        channel = "支付宝" if item.channel == "alipay" else "微信支付"
        event(session, f"case:{case.id}", "refund_failed",
              f"{channel}退款{yuan(item.amount_fen)}元第{item.attempt}次失败，将自动重试",
              f"Refund of {yuan(item.amount_fen)} yuan via {item.channel} failed (attempt {item.attempt}); "
              "it will be retried")
        item.status, item.last_error = "failed", "渠道拒绝退款 / refused by the channel"
        item.attempt += 1  # the next try is a new refund at the channel
    elif done.status == "succeeded" and item.status != "succeeded":
        item.status, item.last_error = "succeeded", ""
        channel = "支付宝" if item.channel == "alipay" else "微信支付"
        event(session, f"case:{case.id}", "refunded", f"已退回{yuan(item.amount_fen)}元到{channel}",
              f"{yuan(item.amount_fen)} yuan refunded to {item.channel}")
    elif done.status == "processing":
        item.status = "processing"
    session.flush()


def _to_manual(session: Session, case: AftersalesCase, item: CaseRefund, why: str) -> None:
    """Stop retrying a refund: a person (finance) has to pay it back some other way."""
    item.status = "manual"
    item.last_error = f"需人工处理：渠道拒绝退款（{why}） / needs handling by hand: refused ({why})"[:200]
    channel = "支付宝" if item.channel == "alipay" else "微信支付"
    event(session, f"case:{case.id}", "refund_manual",
          f"{channel}退款{yuan(item.amount_fen)}元无法自动完成（{why}），已转人工处理",
          f"Refund of {yuan(item.amount_fen)} yuan via {item.channel} cannot be completed automatically ({why}); "
          "handed to staff")
    notify_shopper(session, case.application_id, "aftersales.refund_manual",
                   f"【分期】售后单{case.id}有一笔退款需人工处理，客服将尽快与您联系")
    log.info("aftersales.refund.manual", case_id=case.id, why=why)
    session.flush()


def backoff(attempt: int) -> timedelta:
    """How long the scheduled job waits before the given attempt: at once for the first three, then 5, 10,
    20 … minutes (at most 6 hours)."""
    return timedelta(minutes=0 if attempt <= 3 else min(5 * 2 ** (attempt - 4), 360))


def _due(item: CaseRefund) -> bool:
    return item.status != "failed" or item.updated_at + backoff(item.attempt) <= utcnow()


def run_refunds(session: Session, case: AftersalesCase, *, job: bool = False) -> bool:
    """Try every refund not yet succeeded (nor handed to a person); complete the case when all have
    succeeded. True when complete. `job`: a refund that failed waits for its back-off."""
    items = list(session.scalars(select(CaseRefund).where(CaseRefund.case_id == case.id).order_by(CaseRefund.id)
                                 .with_for_update()))
    for item in items:
        if item.status not in LEFT_ALONE and (not job or _due(item)):
            _attempt(session, case, item)
    if all(i.status in DONE for i in items) and case.status == CaseStatus.PROCESSING:
        total = yuan(case.refund_fen)
        complete(session, case, f"退货完成，共退款{total}元", f"Return completed: {total} yuan refunded")
        return True
    if any(i.status == "failed" for i in items):
        notify_shopper(session, case.application_id, "aftersales.refund_retry",
                       f"【分期】售后单{case.id}有一笔退款暂未到账，系统将自动重试")
    return False


def refund_paid(session: Session, paid: Any) -> None:
    """payments paid a refund out (its notification or a poll came after our request): if it is one of a
    return's refunds, record it and complete the case when it was the last."""
    if not paid.refund_ref.startswith("aftersales:"):
        return
    item = session.scalar(select(CaseRefund).where(CaseRefund.out_refund_no == paid.out_refund_no))
    if item is None or item.status in DONE:
        return
    # The case first, as every other step locks it; if a request is working on the case right now, leave
    # it to that request (or to the resume job) rather than wait: the notification must not deadlock it.
    case = session.scalar(select(AftersalesCase).where(AftersalesCase.id == item.case_id)
                          .with_for_update(skip_locked=True))
    if case is not None:
        run_refunds(session, case)


def resume(session: Session, case: AftersalesCase, *, job: bool = False) -> AftersalesCase:
    """Finish whatever a return still has to do (after a crash, or a refund the channel refused)."""
    process_return(session, case, job=job)
    return case


def open_returns(session: Session, limit: int = 200) -> list[int]:
    return list(session.scalars(select(AftersalesCase.id).where(
        AftersalesCase.status == CaseStatus.PROCESSING, AftersalesCase.outcome == "return")
        .order_by(AftersalesCase.id).limit(limit)))


def resume_all(limit: int = 200) -> dict[str, int]:
    """The job: each unfinished return in its own transaction. Returns how many completed / still open."""
    counts = {"completed": 0, "open": 0, "error": 0}
    with session_scope() as session:
        ids = open_returns(session, limit)
    for case_id in ids:
        try:
            with session_scope() as session:
                case = session.get(AftersalesCase, case_id, with_for_update=True)
                if case is None:
                    continue
                resume(session, case, job=True)
                counts["completed" if case.status == CaseStatus.COMPLETED else "open"] += 1
        except DomainError as exc:
            counts["error"] += 1
            log.info("aftersales.resume.error", case_id=case_id, error=exc.code)
    return counts


def device_status(session: Session, imei: str) -> str:
    return get_device(session, imei).status
