"""The contact log of a loan (calls with their outcome, SMS, visits, notes), the daily cap on call
attempts, the audited reveal of the shopper's phone number, the pay-link SMS and hardship requests.

The call cap (default 6 attempts per loan per local calendar day, `FENQI_COLLECTIONS_CALLS_PER_DAY`) is
counted here with one atomic UPDATE … WHERE attempts < cap; the reminders' shared contact rules take it
over once they offer `record_call_attempt`.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fenqi.collections.models_cases import (
    CALL_OUTCOMES,
    VISIT_OUTCOMES,
    CallCount,
    CollectionCase,
    ContactKind,
    HardshipRequest,
    LoanNote,
)
from fenqi.identity.deps import Principal
from fenqi.identity.outbox import notify
from fenqi.identity.service import audit
from fenqi.kit.crypto import decrypt, mask_phone
from fenqi.kit.db import utcnow
from fenqi.kit.errors import DomainError, InvalidInput, NotFound
from fenqi.kit.money import from_fen
from fenqi.origination.service import application_for_loan

LOCAL = ZoneInfo("Asia/Shanghai")
HARDSHIP_KINDS = ("holiday", "restructure", "settlement")


class CallCapReached(DomainError):
    status = 409
    code = "call_cap_reached"
    zh = "今天对该贷款的拨打次数已达上限（{cap} 次），请明天再联系"
    en = "The day's cap of {cap} call attempts on this loan is reached; try again tomorrow"


def calls_per_day() -> int:
    raw = os.environ.get("FENQI_COLLECTIONS_CALLS_PER_DAY", "6")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 6


def local_day(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(LOCAL).date()


def count_call_attempt(session: Session, loan_id: int, *, now: datetime | None = None) -> int:
    """Count one call attempt on the loan today (shopper's local day), atomically; refuses the one past the
    cap with `CallCapReached`. Returns the attempt's number."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    day, cap = local_day(now), calls_per_day()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(CallCount).values(loan_id=loan_id, day=day, attempts=0)
                    .on_conflict_do_nothing(index_elements=["loan_id", "day"]))
    counted = session.execute(
        update(CallCount).where(CallCount.loan_id == loan_id, CallCount.day == day, CallCount.attempts < cap)
        .values(attempts=CallCount.attempts + 1).returning(CallCount.attempts)).scalar()
    if counted is None:
        raise CallCapReached(cap=cap)
    return int(counted)


def log_contact(session: Session, who: Principal, loan_id: int, *, kind: str, outcome: str = "", body: str = "",
                case: CollectionCase | None = None, now: datetime | None = None) -> LoanNote:
    """One entry of the contact log. A call counts against the daily cap before it is written."""
    if kind not in ContactKind.ALL:
        raise InvalidInput("kind: 联系方式应为电话、短信、上门或备注 / kind must be call, sms, visit or note")
    if kind == ContactKind.CALL and outcome not in CALL_OUTCOMES:
        raise InvalidInput("outcome: 请选择通话结果 / choose the call's outcome")
    if kind == ContactKind.VISIT and outcome not in VISIT_OUTCOMES:
        raise InvalidInput("outcome: 请选择上门结果 / choose the visit's outcome")
    if kind in (ContactKind.NOTE, ContactKind.SMS):
        outcome = ""
    text = body.strip()
    if kind == ContactKind.NOTE and not text:
        raise InvalidInput("body: 请填写备注内容 / write the note")
    if kind == ContactKind.CALL:
        count_call_attempt(session, loan_id, now=now)
    row = LoanNote(loan_id=loan_id, case_id=case.id if case else None, kind=kind, outcome=outcome or None,
                   author_user_id=who.user_id, author_name=who.display_name[:60], author_role=who.role,
                   body=text[:2000])
    session.add(row)
    session.flush()
    return row


def contacts_of(session: Session, loan_id: int, limit: int = 200) -> list[LoanNote]:
    return list(session.scalars(select(LoanNote).where(LoanNote.loan_id == loan_id)
                                .order_by(LoanNote.id.desc()).limit(limit)))


def _phone_of_loan(session: Session, loan_id: int) -> str:
    app = application_for_loan(session, loan_id)
    if app is None:
        raise NotFound(f"application of loan {loan_id}")
    return decrypt(app.phone_enc)


def masked_phone(session: Session, loan_id: int) -> str:
    app = application_for_loan(session, loan_id)
    return mask_phone(decrypt(app.phone_enc)) if app else "—"


def reveal_phone(session: Session, who: Principal, case: CollectionCase, reason: str) -> str:
    """The shopper's full mobile number, for this response only; the access goes to the audit log."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason: 请填写查看原因 / give a reason")
    phone = _phone_of_loan(session, case.loan_id)
    audit(session, actor_user_id=who.user_id, action="phone.revealed", subject=f"loan:{case.loan_id}",
          detail=f"case:{case.id} {reason[:180]}")
    return phone


def send_pay_link(session: Session, who: Principal, case: CollectionCase, *, link: str, amount_fen: int) -> LoanNote:
    """One SMS with what is owed and the pay link, queued in the outbox, and logged as a contact.
    (Written to the identity outbox directly until the reminders' `queue_notice` is there to apply the
    quiet hours and daily message cap.)"""
    if amount_fen <= 0:
        raise InvalidInput("amount: 目前没有需要支付的金额 / nothing is owed today")
    phone = _phone_of_loan(session, case.loan_id)
    amount = f"{from_fen(amount_fen):,.2f}"
    notify(session, channel="sms", to=phone, template="collections.pay_link",
           body=f"【分期】您的贷款 #{case.loan_id} 已逾期，应还 ¥{amount}。请点击链接还款：{link} 如已还款请忽略。")
    return log_contact(session, who, case.loan_id, kind=ContactKind.SMS, body=f"还款链接短信 ¥{amount}", case=case)


def request_hardship(session: Session, *, loan_id: int, user_id: int, kind: str, reason: str) -> HardshipRequest:
    if kind not in HARDSHIP_KINDS:
        raise InvalidInput("kind: 请选择申请类型 / choose what you ask for")
    text = reason.strip()
    if not 2 <= len(text) <= 1000:
        raise InvalidInput("reason: 请简要说明原因（2–1000 字）/ say why (2–1000 characters)")
    row = HardshipRequest(loan_id=loan_id, user_id=user_id, kind=kind, reason=text)
    session.add(row)
    session.flush()
    return row


def hardship_requests(session: Session, loan_id: int) -> list[HardshipRequest]:
    return list(session.scalars(select(HardshipRequest).where(HardshipRequest.loan_id == loan_id)
                                .order_by(HardshipRequest.id.desc())))
