"""Feedback (评价, the NPS question 0–10) and complaints (投诉) with their deadlines.

A complaint must be answered within 24 hours and resolved within 7 days of being filed; it is assigned
to a member of staff, may be escalated (level 2), and is closed with resolution notes. Deadlines are
wall-clock times (UTC), shown in Asia/Shanghai.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fenqi.aftersales.cases import event, of_book
from fenqi.aftersales.errors import CaseNotFound, ComplaintState
from fenqi.aftersales.models import AftersalesCase, Complaint, Feedback
from fenqi.identity.deps import Principal
from fenqi.identity.roles import MERCHANT_ROLES, SHOPPER
from fenqi.identity.service import audit
from fenqi.kit.db import utcnow
from fenqi.kit.errors import Conflict, Forbidden, InvalidInput
from fenqi.origination.service import application_for_loan

ABOUT = ("purchase", "return", "exchange", "repair")
CATEGORIES = {"device": ("手机质量", "device"), "fees": ("费用", "fees"),
              "collections": ("催收行为", "collections conduct"), "staff": ("服务人员", "staff"),
              "payment": ("支付", "payment")}
RESPOND_WITHIN = timedelta(hours=24)
RESOLVE_WITHIN = timedelta(days=7)


def rate(session: Session, principal: Principal, *, about: str, subject_id: int, score: int,
         comment: str = "") -> Feedback:
    """The shopper rates a purchase (subject: the loan) or a finished case (subject: the case); once each."""
    if principal.role != SHOPPER:
        raise Forbidden()
    if about not in ABOUT:
        raise InvalidInput(f"about: {' | '.join(ABOUT)}", zh="请选择要评价的是购买还是售后服务",
                           en="Choose whether you rate the purchase or the after-sales service")
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise InvalidInput("score", zh="请选择 0 到 10 分的评分", en="Choose a score from 0 to 10")
    if about == "purchase":
        app = application_for_loan(session, subject_id)
        if app is None or app.shopper_user_id != principal.user_id:
            raise Forbidden()
        merchant_id = app.merchant_id
    else:
        case = session.get(AftersalesCase, subject_id)
        if case is None:
            raise CaseNotFound(str(subject_id))
        if case.shopper_user_id != principal.user_id:
            raise Forbidden()
        if case.outcome != about or case.status != "completed":
            raise InvalidInput(f"case {subject_id} is not a completed {about}",
                               zh="这个售后服务还没有完成，完成后才能评价",
                               en="This after-sales case is not completed yet; rate it once it is")
        merchant_id = case.merchant_id
    existing = session.scalar(select(Feedback).where(Feedback.shopper_user_id == principal.user_id,
                                                     Feedback.about == about, Feedback.subject_id == subject_id))
    if existing is not None:
        if (existing.score, existing.comment) != (score, comment[:500]):
            raise Conflict("already rated", zh="您已经评价过了，感谢您的反馈",
                           en="You have already rated this; thank you")
        return existing
    row = Feedback(shopper_user_id=principal.user_id, about=about, subject_id=subject_id, merchant_id=merchant_id,
                   score=score, comment=comment[:500])
    nested = session.begin_nested()
    try:
        session.add(row)
        session.flush()
        nested.commit()
    except IntegrityError:
        nested.rollback()
        raise Conflict("already rated", zh="您已经评价过了，感谢您的反馈",
                           en="You have already rated this; thank you") from None
    return row


def rating_of(session: Session, principal: Principal, *, about: str, subject_id: int) -> Feedback | None:
    """The shopper's own rating of a purchase (subject: the loan) or a case, if given."""
    return session.scalar(select(Feedback).where(Feedback.shopper_user_id == principal.user_id,
                                                 Feedback.about == about, Feedback.subject_id == subject_id))


def nps(session: Session, merchant_id: int | None = None) -> dict[str, Any]:
    """Net promoter score: % promoters (9–10) − % detractors (0–6), over every rating (or a merchant's)."""
    query = select(Feedback.score, func.count()).group_by(Feedback.score)
    if merchant_id is not None:
        query = query.where(Feedback.merchant_id == merchant_id)
    counts = {int(s): int(n) for s, n in session.execute(query)}
    total = sum(counts.values())
    promoters = sum(n for s, n in counts.items() if s >= 9)
    detractors = sum(n for s, n in counts.items() if s <= 6)
    score = None if total == 0 else round((promoters - detractors) * 100 / total)
    return {"responses": total, "promoters": promoters, "detractors": detractors, "nps": score}


# --- complaints ------------------------------------------------------------------------------------


def file_complaint(session: Session, principal: Principal, *, category: str, text: str, loan_id: int | None = None,
                   idempotency_key: str | None = None, now: datetime | None = None) -> Complaint:
    if principal.role != SHOPPER:
        raise Forbidden()
    if category not in CATEGORIES:
        raise InvalidInput(f"category: {' | '.join(CATEGORIES)}", zh="请选择投诉类型",
                           en="Choose what the complaint is about")
    if not text.strip():
        raise InvalidInput("text", zh="请写下您遇到的问题", en="Describe what went wrong")
    key = f"{principal.user_id}:{idempotency_key}"[:160] if idempotency_key else None
    if key:
        again = session.scalar(select(Complaint).where(Complaint.idempotency_key == key))
        if again is not None:
            return again
    merchant_id = None
    if loan_id is not None:
        app = application_for_loan(session, loan_id)
        if app is None or app.shopper_user_id != principal.user_id:
            raise Forbidden()
        merchant_id = app.merchant_id
    now = now or utcnow()
    row = Complaint(idempotency_key=key, shopper_user_id=principal.user_id, loan_id=loan_id, merchant_id=merchant_id,
                    category=category, text=text.strip()[:1000], status="open", respond_by=now + RESPOND_WITHIN,
                    resolve_by=now + RESOLVE_WITHIN)
    session.add(row)
    session.flush()
    zh, en = CATEGORIES[category]
    event(session, f"complaint:{row.id}", "filed", f"收到投诉（{zh}），24小时内答复", f"Complaint received ({en})",
          principal.user_id)
    return row


def _staff(principal: Principal, row: Complaint) -> None:
    if principal.role == SHOPPER:
        raise Forbidden()
    if principal.role in MERCHANT_ROLES and principal.merchant_id != row.merchant_id:
        raise Forbidden()


def get_complaint(session: Session, complaint_id: int, principal: Principal) -> Complaint:
    row = session.scalar(select(Complaint).where(Complaint.id == complaint_id).with_for_update())
    if row is None:
        raise CaseNotFound(f"complaint {complaint_id}")
    if principal.role == SHOPPER:
        if row.shopper_user_id != principal.user_id:
            raise Forbidden()
    else:
        _staff(principal, row)
    return row


def assign(session: Session, principal: Principal, complaint_id: int, assignee_user_id: int) -> Complaint:
    row = get_complaint(session, complaint_id, principal)
    _staff(principal, row)
    if row.status == "resolved":
        raise ComplaintState(row.status)
    row.assignee_user_id = assignee_user_id
    event(session, f"complaint:{row.id}", "assigned", "已指派专人处理", "Assigned", principal.user_id)
    audit(session, actor_user_id=principal.user_id, action="complaint.assigned", subject=f"complaint:{row.id}",
          detail=f"to user:{assignee_user_id}")
    return row


def respond(session: Session, principal: Principal, complaint_id: int, response: str) -> Complaint:
    row = get_complaint(session, complaint_id, principal)
    _staff(principal, row)
    if row.status not in ("open", "escalated"):
        raise ComplaintState(row.status)
    if not response.strip():
        raise InvalidInput("response", zh="请填写给顾客的答复", en="Write the answer to the shopper")
    row.response, row.status = response.strip()[:1000], "answered"
    row.responded_at = row.responded_at or utcnow()
    row.assignee_user_id = row.assignee_user_id or principal.user_id
    event(session, f"complaint:{row.id}", "answered", "已答复：" + row.response[:200],
          "Answered: " + row.response[:200], principal.user_id)
    return row


def escalate(session: Session, principal: Principal, complaint_id: int, note: str = "") -> Complaint:
    row = get_complaint(session, complaint_id, principal)
    if row.status == "resolved":
        raise ComplaintState(row.status)
    row.status, row.level = "escalated", 2
    event(session, f"complaint:{row.id}", "escalated", "已升级处理" + (f"：{note[:200]}" if note else ""),
          "Escalated" + (f": {note[:200]}" if note else ""), principal.user_id)
    return row


def resolve(session: Session, principal: Principal, complaint_id: int, resolution: str) -> Complaint:
    row = get_complaint(session, complaint_id, principal)
    _staff(principal, row)
    if row.status == "resolved":
        if row.resolution == resolution.strip()[:1000]:
            return row
        raise ComplaintState(row.status)
    if row.status != "answered":
        raise ComplaintState(row.status)
    if not resolution.strip():
        raise InvalidInput("resolution", zh="请填写处理结果", en="Write how the complaint was resolved")
    row.resolution, row.status, row.resolved_at = resolution.strip()[:1000], "resolved", utcnow()
    event(session, f"complaint:{row.id}", "resolved", "已解决：" + row.resolution[:200],
          "Resolved: " + row.resolution[:200], principal.user_id)
    audit(session, actor_user_id=principal.user_id, action="complaint.resolved", subject=f"complaint:{row.id}")
    return row


def breaches(row: Complaint, now: datetime | None = None) -> list[str]:
    """Which deadlines the complaint has missed (or is missing now)."""
    now = now or utcnow()
    late = []
    if (row.responded_at or now) > row.respond_by:
        late.append("response")
    if (row.resolved_at or now) > row.resolve_by:
        late.append("resolution")
    return late


def list_complaints(session: Session, principal: Principal, *, status: str | None = None,
                    limit: int = 100, training: bool = False) -> list[Complaint]:
    """Operations see the real complaints, a training store's practice only when `training` asks."""
    query = select(Complaint)
    if principal.role == SHOPPER:
        query = query.where(Complaint.shopper_user_id == principal.user_id)
    elif principal.role in MERCHANT_ROLES:
        query = query.where(Complaint.merchant_id == principal.merchant_id)
    else:
        query = query.where(of_book(Complaint.merchant_id, training))
    if status == "open":
        query = query.where(Complaint.status != "resolved")
    elif status:
        query = query.where(Complaint.status == status)
    return list(session.scalars(query.order_by(Complaint.respond_by).limit(min(max(limit, 1), 500))))


def complaint_json(row: Complaint, lang: str = "zh") -> dict[str, Any]:
    zh, en = CATEGORIES[row.category]
    return {"id": row.id, "category": row.category, "category_name": zh if lang.startswith("zh") else en,
            "text": row.text, "status": row.status, "level": row.level, "loan_id": row.loan_id,
            "assignee_user_id": row.assignee_user_id, "respond_by": row.respond_by.isoformat(),
            "resolve_by": row.resolve_by.isoformat(),
            "responded_at": row.responded_at.isoformat() if row.responded_at else None,
            "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
            "response": row.response, "resolution": row.resolution, "breaches": breaches(row)}
