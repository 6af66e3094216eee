"""The contact log of a loan (calls with their outcome, SMS, visits, notes), the audited reveal of the
shopper's phone number and the pay-link SMS (hardship requests: fenqi.collections.hardship_requests).

Contacting the shopper goes through the reminders' one rule path (fenqi.collections.reminders): a call is
logged only once `record_call_attempt` has counted it (quiet hours 22:00–08:00, the daily cap on call
attempts, the borrower only), and the pay link is a notice queued with `queue_notice` (quiet hours, the
daily cap on messages, opt-outs, the borrower's verified number).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.collections.models_cases import (
    CALL_OUTCOMES,
    VISIT_OUTCOMES,
    CollectionCase,
    ContactKind,
    LoanNote,
)
from fenqi.collections.reminders import get_reminder_settings, queue_notice, record_call_attempt
from fenqi.collections.reminders_templates import PAY_LINK
from fenqi.identity.deps import Principal
from fenqi.identity.service import audit
from fenqi.kit.crypto import decrypt, mask_phone
from fenqi.kit.errors import InvalidInput, NotFound
from fenqi.kit.money import from_fen
from fenqi.origination.service import application_for_loan


def calls_per_day() -> int:
    """The daily cap on call attempts per loan (the reminders' `FENQI_DAILY_CALL_CAP`, default 6)."""
    return get_reminder_settings().daily_call_cap


def messages_per_day() -> int:
    """The daily cap on messages per loan (the reminders' `FENQI_DAILY_MESSAGE_CAP`, default 6)."""
    return get_reminder_settings().daily_message_cap


def log_contact(session: Session, who: Principal, loan_id: int, *, kind: str, outcome: str = "", body: str = "",
                case: CollectionCase | None = None, now: datetime | None = None) -> LoanNote:
    """One entry of the contact log. A call is counted by the reminders' `record_call_attempt` before it is
    written: refused in quiet hours and past the day's cap on call attempts."""
    if kind not in ContactKind.ALL:
        raise InvalidInput("kind", zh="请选择联系方式：电话、短信、上门或备注",
                           en="Choose a call, a text message, a visit or a note")
    if kind == ContactKind.CALL and outcome not in CALL_OUTCOMES:
        raise InvalidInput("outcome", zh="请选择通话结果", en="Choose the call's outcome")
    if kind == ContactKind.VISIT and outcome not in VISIT_OUTCOMES:
        raise InvalidInput("outcome", zh="请选择上门结果", en="Choose the visit's outcome")
    if kind in (ContactKind.NOTE, ContactKind.SMS):
        outcome = ""
    text = body.strip()
    if kind == ContactKind.NOTE and not text:
        raise InvalidInput("body", zh="请填写备注内容", en="Write the note")
    if kind == ContactKind.CALL:
        record_call_attempt(session, loan_id, now=now)
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
        raise NotFound.saying(f"贷款 {loan_id} 的申请", f"application of loan {loan_id}")
    return decrypt(app.phone_enc)


def masked_phone(session: Session, loan_id: int) -> str:
    app = application_for_loan(session, loan_id)
    return mask_phone(decrypt(app.phone_enc)) if app else "—"


def reveal_phone(session: Session, who: Principal, case: CollectionCase, reason: str) -> str:
    """The shopper's full mobile number, for this response only; the access goes to the audit log."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason", zh="请填写查看原因", en="Give a reason")
    phone = _phone_of_loan(session, case.loan_id)
    audit(session, actor_user_id=who.user_id, action="phone.revealed", subject=f"loan:{case.loan_id}",
          detail=f"case:{case.id} {reason[:180]}")
    return phone


def send_pay_link(session: Session, who: Principal, case: CollectionCase, *, link: str, amount_fen: int,
                  now: datetime | None = None) -> tuple[LoanNote, bool]:
    """One SMS with what is owed and the pay link, as the reminders' `pay_link` notice (`queue_notice`,
    dispatched at once under the contact rules: held until 08:00 in quiet hours; refused past the day's
    message cap, when the borrower opted out or has no verified number), logged as an SMS contact.
    Returns the contact and whether the message waits for the end of quiet hours."""
    if amount_fen <= 0:
        raise InvalidInput("amount", zh="目前没有需要支付的金额", en="Nothing is owed today")
    notice = queue_notice(session, case.loan_id, PAY_LINK, {"pay_link": link}, at_once=True, now=now)
    amount = f"{from_fen(amount_fen):,.2f}"
    held = notice.status != "queued"
    note = log_contact(session, who, case.loan_id, kind=ContactKind.SMS, case=case,
                       body=f"还款链接短信 ¥{amount}" + ("（免打扰时段，08:00 发送）" if held else ""))
    return note, held
