"""Promises to pay (承诺还款): taken in the case workspace, decided by close-of-business.

Day step `collections.promises_and_closing` (after the day's last chunk, so every loan is closed):
1. a pending promise is **kept** when the loan's payments since the business date it was made reach the
   promised amount, or the loan is no longer past due (cured or paid off) — as long as `due_on` has not
   passed before that close;
2. a pending promise whose `due_on` is the closed day (or earlier) and is not kept is **broken**;
3. each case's `broken_promises` is recounted from its promises (idempotent), which moves it up the queue
   and lowers its recovery score at the next close;
4. cases whose loan is cured, paid off, written off or cancelled are closed (`cases.close_settled_or_ended`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from fenqi.collections.cases import close_settled_or_ended
from fenqi.collections.loanview import loan, repayment
from fenqi.collections.models_cases import CaseStatus, CollectionCase, PromiseStatus, PromiseToPay
from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import fmt_fen, parse_yuan, to_fen

MAX_PROMISE_DAYS = 30  # a promise further out is a plan, not a promise: hardship handles those


def decide(session: Session, day: date) -> None:
    p = PromiseToPay.__table__.c
    paid = (select(func.coalesce(func.sum(repayment.c.amount_fen), 0))
            .where(repayment.c.loan_id == p.loan_id, repayment.c.business_date >= p.made_on,
                   repayment.c.business_date <= day).scalar_subquery())
    cured = exists().where(loan.c.id == p.loan_id, (loan.c.dpd < 1) & (loan.c.status.in_(("active", "paid_off"))))
    session.execute(
        update(PromiseToPay)
        .where(p.status == PromiseStatus.PENDING, p.due_on >= day, (paid >= p.amount_fen) | cured)
        .values(status=PromiseStatus.KEPT, decided_on=day, paid_fen=paid)
        .execution_options(synchronize_session=False))
    session.execute(
        update(PromiseToPay)
        .where(p.status == PromiseStatus.PENDING, p.due_on <= day)
        .values(status=PromiseStatus.BROKEN, decided_on=day, paid_fen=paid)
        .execution_options(synchronize_session=False))
    c = CollectionCase.__table__.c
    broken = (select(func.count()).where(p.case_id == c.id, p.status == PromiseStatus.BROKEN)
              .scalar_subquery())
    just_broken = exists().where(p.case_id == c.id, p.status == PromiseStatus.BROKEN, p.decided_on == day)
    session.execute(update(CollectionCase).where(c.status == CaseStatus.OPEN, just_broken)
                    .values(broken_promises=broken).execution_options(synchronize_session=False))
    close_settled_or_ended(session, day)
    session.expire_all()


def record_promise(session: Session, case: CollectionCase, *, amount: str, due_on: date, today: date,
                   user_id: int) -> PromiseToPay:
    """A promise of `amount` yuan by `due_on` (today … today + 30 days) on an open case."""
    if case.status != CaseStatus.OPEN:
        raise InvalidInput("case", zh="案件已结案", en="The case is closed")
    fen = to_fen(parse_yuan(amount, field="amount"))
    if fen <= 0:
        raise InvalidInput("amount", zh="承诺金额须大于零", en="The amount must be positive")
    if not today <= due_on <= date.fromordinal(today.toordinal() + MAX_PROMISE_DAYS):
        raise InvalidInput("due_on", zh=f"承诺日期须在今天起 {MAX_PROMISE_DAYS} 天内",
                           en=f"The date must be within {MAX_PROMISE_DAYS} days from today")
    # One pending promise per case: a second one (a double-click, two collectors at once) would count twice
    # in the collector's figures and, broken, twice against the case. The case row is locked first so that
    # concurrent requests check one after the other.
    session.execute(select(CollectionCase.id).where(CollectionCase.id == case.id).with_for_update())
    pending = session.scalar(select(PromiseToPay).where(PromiseToPay.case_id == case.id,
                                                        PromiseToPay.status == PromiseStatus.PENDING).limit(1))
    if pending is not None:
        amount_text, day = fmt_fen(pending.amount_fen), pending.due_on.isoformat()
        raise InvalidInput("case", zh=f"本案已有一笔待兑现的承诺还款（¥{amount_text}，{day} 前），"
                                      "到期判定后再记录新的承诺",
                           en=f"The case already has a pending promise (¥{amount_text} by {day}); record a new one "
                              "once it is decided")
    row = PromiseToPay(case_id=case.id, loan_id=case.loan_id, amount_fen=fen, made_on=today, due_on=due_on,
                       user_id=user_id)
    session.add(row)
    session.flush()
    return row


def promises_of(session: Session, case_id: int) -> list[PromiseToPay]:
    return list(session.scalars(select(PromiseToPay).where(PromiseToPay.case_id == case_id)
                                .order_by(PromiseToPay.id.desc())))
