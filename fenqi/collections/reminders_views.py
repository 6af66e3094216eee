"""A loan's notices as people read them: kind, when, sending and delivery, in Chinese or English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.collections.models_reminders import Reminder
from fenqi.identity.service import message_statuses

KIND_LABELS: dict[str, tuple[str, str]] = {
    "pre_due_3": ("到期前3天提醒", "3 days before due"),
    "pre_due_1": ("到期前1天提醒", "1 day before due"),
    "due_today": ("到期日提醒", "Due today"),
    "overdue_1": ("逾期第1天通知", "1 day overdue"),
    "overdue_3": ("逾期第3天通知", "3 days overdue"),
    "overdue_7": ("逾期第7天通知", "7 days overdue"),
    "overdue_weekly": ("逾期每周通知", "Weekly overdue notice"),
    "payoff": ("结清确认", "Payoff confirmation"),
    "lock_warning": ("锁机预警", "Lock warning"),
    "upgrade_offer": ("换新优惠（营销）", "Trade-up offer (marketing)"),
    "pay_link": ("催收员发送的还款链接", "Pay link sent by a collector"),
}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "scheduled": ("待发送", "Scheduled"),
    "suppressed": ("不发送", "Not sent"),
    "pending": ("发送中", "Sending"),
    "sent": ("已提交运营商", "Accepted by the provider"),
    "failed": ("发送失败", "Failed"),
    "expired": ("已过期", "Expired"),
    "delivered": ("已送达", "Delivered"),
    "undelivered": ("未送达", "Not delivered"),
}
REASON_LABELS: dict[str, tuple[str, str]] = {
    "quiet_hours": ("免打扰时段，08:00 后发送", "Quiet hours: goes at 08:00"),
    "daily_cap": ("已达当日上限，次日发送", "Daily cap reached: goes tomorrow"),
    "opted_out": ("客户已退订", "The shopper opted out"),
    "no_verified_phone": ("无本人已验证手机号", "No verified number of the borrower"),
    "paid": ("已还款，无需通知", "Paid: no longer needed"),
    "template_inactive": ("模板已停用", "Template disabled"),
    "loan_closed": ("借款已结束", "Loan closed"),
    "stale": ("已过时效，不再发送", "Too late: not sent"),
}
ERROR_LABELS: dict[str, tuple[str, str]] = {
    "Throttling.User": ("运营商限流，稍后重试", "Provider flow control; retrying"),
    "ServiceUnavailable": ("运营商暂不可用，稍后重试", "Provider unavailable; retrying"),
    "isv.MOBILE_NUMBER_ILLEGAL": ("手机号无效", "Invalid number"),
    "network": ("网络错误，稍后重试", "Network error; retrying"),
    "MOBILE_NOT_ON_SERVICE": ("手机停机或不在服务区", "Phone out of service"),
}


def _label(table: dict[str, tuple[str, str]], key: str | None, lang: str) -> str:
    if not key:
        return ""
    zh, en = table.get(key, ("其他原因", key) if lang == "zh" else (key, key))
    return zh if lang == "zh" else en


@dataclass(frozen=True)
class LoanMessage:
    id: int
    kind: str
    kind_label: str
    for_date: date
    amount_fen: int
    status: str  # the furthest stage reached: scheduled, suppressed, pending, sent, failed, delivered, …
    status_label: str
    note: str  # why held or not sent, or the provider's refusal, in words
    to_masked: str
    attempts: int
    queued_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    not_before: datetime | None


def loan_messages(session: Session, loan_id: int, lang: str = "zh") -> list[LoanMessage]:
    """Every notice of a loan, newest first, with what became of it."""
    rows = session.scalars(select(Reminder).where(Reminder.loan_id == loan_id)
                           .order_by(Reminder.for_date.desc(), Reminder.id.desc())).all()
    sent = message_statuses(session, [r.notification_id for r in rows if r.notification_id is not None])
    out = []
    for r in rows:
        m = sent.get(r.notification_id) if r.notification_id is not None else None
        status = r.status if m is None else (m.delivery or m.status)
        if m is None:
            note = _label(REASON_LABELS, r.reason, lang)
        else:
            note = _label(ERROR_LABELS, m.delivery_code if m.delivery == "undelivered" else
                          (m.last_error if m.status != "sent" else None), lang)
        out.append(LoanMessage(
            r.id, r.kind, _label(KIND_LABELS, r.kind, lang), r.for_date, r.amount_fen, status,
            _label(STATUS_LABELS, status, lang), note, m.to_masked if m else "", m.attempts if m else 0,
            r.queued_at, m.sent_at if m else None, m.delivered_at if m else None, r.not_before,
        ))
    return out
