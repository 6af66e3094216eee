"""Reminders and notices: the rules that decide when a scheduled notice may reach the borrower, and
the contact caps that collectors' calls share.

A notice (`reminder` row) is scheduled by close-of-business (fenqi.collections.reminders_cob) or by
another part through `queue_notice` (the device lock's warning). The dispatcher (a job every minute)
hands each due notice to the outbox (fenqi.identity.outbox, which sends it through the SMS provider's
SDK and records the receipt) only when the rules allow:

- only the borrower, on their own verified number (a shopper's number proven by a sign-in code); no
  other number can be given, so no third party can be contacted;
- never in quiet hours, 22:00–08:00 in the shopper's zone (Asia/Shanghai unless they chose another):
  a notice due then waits until 08:00 (and the outbox holds a message that would be retried then);
- at most FENQI_DAILY_MESSAGE_CAP messages and FENQI_DAILY_CALL_CAP call attempts per loan per local day
  (default 6 each), counted by one atomic statement; a notice over the cap waits for the next day;
- opt-outs: marketing and courtesy reminders honour them; legally required notices (due, overdue,
  payoff, lock warning) do not;
- a due or overdue notice for a loan paid meanwhile is dropped, and so is one not sent within three
  days of its day (a backlog after an outage, a simulated history).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from fenqi.collections.errors import (
    CallCapReached,
    MessageCapReached,
    NoticeNotSent,
    QuietHours,
    ThirdPartyContact,
    UnknownNoticeKind,
)
from fenqi.collections.models_reminders import ContactCounter, ContactPreference, Reminder
from fenqi.collections.reminders_templates import (
    KINDS,
    LOCK_WARNING,
    MARKETING,
    PAYOFF,
    REMINDER,
    UPGRADE_OFFER,
    render,
    template_for,
)
from fenqi.identity.service import notify, quiet_until, verified_phone
from fenqi.kit.clock import business_date
from fenqi.kit.db import utcnow
from fenqi.kit.money import fmt_yuan, from_fen
from fenqi.kit.settings import get_settings
from fenqi.servicing.service import amount_due, get_loan


class ReminderSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FENQI_", env_file=None, extra="ignore")

    base_url: str = "http://127.0.0.1:8000"
    contact_zone: str = "Asia/Shanghai"  # the shopper's zone unless they chose another
    daily_message_cap: int = 6
    daily_call_cap: int = 6


@lru_cache
def get_reminder_settings() -> ReminderSettings:
    return ReminderSettings()


STALE_DAYS = 3
# Notices that speak of a loan still owing: dropped once nothing is owed.
_OWING = frozenset(KINDS) - {PAYOFF, UPGRADE_OFFER}


def _zone(pref: ContactPreference | None) -> str:
    return pref.zone if pref is not None else get_reminder_settings().contact_zone


def preference(session: Session, customer_id: int | None) -> ContactPreference | None:
    return session.get(ContactPreference, customer_id) if customer_id is not None else None


def set_preferences(session: Session, customer_id: int, *, reminder_opt_out: bool | None = None,
                    marketing_opt_out: bool | None = None, lang: str | None = None,
                    zone: str | None = None) -> ContactPreference:
    """The shopper's opt-outs, language and zone (a zone name such as Asia/Urumqi)."""
    pref = session.get(ContactPreference, customer_id)
    if pref is None:
        pref = ContactPreference(customer_id=customer_id, reminder_opt_out=False, marketing_opt_out=False,
                                 lang="zh", zone=get_reminder_settings().contact_zone)
        session.add(pref)
    if zone is not None:
        ZoneInfo(zone)  # an unknown zone raises here, not at 22:00
        pref.zone = zone
    for name, value in (("reminder_opt_out", reminder_opt_out), ("marketing_opt_out", marketing_opt_out),
                        ("lang", lang)):
        if value is not None:
            setattr(pref, name, value)
    session.flush()
    return pref


def _take(session: Session, loan_id: int, day: date, channel: str, cap: int) -> int | None:
    """Count one contact; its number today, or None (nothing counted) when the cap is reached."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ContactCounter).values(loan_id=loan_id, day=day, channel=channel, used=1)
        .on_conflict_do_update(index_elements=[ContactCounter.loan_id, ContactCounter.day, ContactCounter.channel],
                               set_={"used": ContactCounter.used + 1}, where=ContactCounter.used < cap)
        .returning(ContactCounter.used)
    )
    used = session.execute(statement).scalar_one_or_none()
    return int(used) if used is not None else None


def _local(now: datetime, zone: str) -> datetime:
    return now.astimezone(ZoneInfo(zone))


def _next_morning(now: datetime, zone: str) -> datetime:
    day = _local(now, zone).date() + timedelta(days=1)
    return datetime.combine(day, time(8, 0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def record_call_attempt(session: Session, loan_id: int, *, party: str = "borrower",
                        now: datetime | None = None) -> int:
    """Count a collector's call attempt to the loan's borrower; returns its number today.

    Raises ThirdPartyContact for anyone but the borrower, QuietHours between 22:00 and 08:00 in the
    borrower's zone, and CallCapReached for the attempt after the day's cap (the seventh by default) —
    the contact log records a call only if this returns."""
    if party != "borrower":
        raise ThirdPartyContact()
    loan = get_loan(session, loan_id)
    zone = _zone(preference(session, loan.customer_id))
    now = now or utcnow()
    until = quiet_until(now, zone)
    if until is not None:
        raise QuietHours(until=_local(until, zone).strftime("%H:%M"))
    cap = get_reminder_settings().daily_call_cap
    used = _take(session, loan_id, _local(now, zone).date(), "call", cap)
    if used is None:
        raise CallCapReached(cap=cap)
    return used


def queue_notice(session: Session, loan_id: int, kind: str, variables: dict[str, str] | None = None, *,
                 for_date: date | None = None, at_once: bool = False, now: datetime | None = None) -> Reminder:
    """Schedule a notice to the loan's borrower (once per loan, kind and business date): the device
    lock's warning (`lock_warning`, with `lock_date`), a collector's pay link (`pay_link`, with `at_once`),
    or any other kind of `KINDS`. The dispatcher sends it under the same rules as close-of-business's
    notices; with `at_once` (a notice a staff member asked for) it is dispatched now, under those rules —
    see `_send_at_once`."""
    if kind not in KINDS:
        raise UnknownNoticeKind(kind)
    loan = get_loan(session, loan_id)
    day = for_date or business_date(session)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(Reminder).values(
            loan_id=loan.id, customer_id=loan.customer_id, kind=kind, for_date=day,
            due_date=loan.oldest_unpaid_due or loan.cur_due_date, amount_fen=0, dpd=loan.dpd,
            extra=json.dumps(variables, ensure_ascii=False) if variables else None, status="scheduled",
            created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=[Reminder.loan_id, Reminder.kind, Reminder.for_date])
    )
    row = session.scalar(select(Reminder).where(Reminder.loan_id == loan.id, Reminder.kind == kind,
                                                Reminder.for_date == day))
    assert row is not None
    if at_once:
        _send_at_once(session, row, now or utcnow())
    return row


# Why a notice a staff member asked for was not handed to the outbox, in their words.
_NOT_SENT = {
    "opted_out": ("借款人已退订提醒短信", "the borrower opted out of reminders"),
    "no_verified_phone": ("借款人没有经本人登录验证的手机号",
                          "the borrower has no mobile number verified by a sign-in"),
    "paid": ("目前没有需要支付的金额", "nothing is owed today"),
    "template_inactive": ("该短信模板已停用", "the message template is switched off"),
}


def _send_at_once(session: Session, r: Reminder, now: datetime) -> None:
    """Dispatch one notice now under the rules: in quiet hours it stays scheduled for 08:00 (the dispatcher
    sends it then); past the day's message cap (the seventh message by default), opted out, without a
    verified number or with nothing owed it is refused — raised, and the notice not kept. Once a day per
    kind: a second one the same business date is refused once the first has gone to the outbox."""
    if r.status == "queued":
        raise NoticeNotSent("already sent today", zh="短信未发送：今天已向借款人发送过该短信",
                            en="The message was not sent: it already went to the borrower today")
    outcome = _dispatch_one(session, r, now)
    if outcome in ("queued", "quiet_hours"):
        session.flush()
        return
    session.delete(r)
    session.flush()
    if outcome == "daily_cap":
        raise MessageCapReached(cap=get_reminder_settings().daily_message_cap)
    zh, en = _NOT_SENT.get(outcome, (outcome, outcome))
    raise NoticeNotSent(en, zh=f"短信未发送：{zh}", en=f"The message was not sent: {en}")


@dataclass
class DispatchReport:
    queued: int = 0
    held: dict[str, int] = field(default_factory=dict)
    suppressed: dict[str, int] = field(default_factory=dict)


def _format_date(d: date | None, lang: str) -> str:
    if d is None:
        return ""
    return f"{d.month}月{d.day}日" if lang == "zh" else d.strftime("%d %b %Y")


def dispatch(session: Session, *, now: datetime | None = None, limit: int = 500) -> DispatchReport:
    """Hand the scheduled notices that are due to the outbox, under the rules (module docstring)."""
    now = now or utcnow()
    today = business_date(session)
    rows = session.scalars(
        select(Reminder).where(Reminder.status == "scheduled", Reminder.for_date <= today,
                               (Reminder.not_before.is_(None)) | (Reminder.not_before <= now))
        .order_by(Reminder.id).limit(limit)
    ).all()
    report = DispatchReport()
    for r in rows:
        # A notice not sent within STALE_DAYS of its day (a backlog, a long outage) would mislead: dropped.
        outcome = _suppress(r, "stale") if r.for_date < today - timedelta(days=STALE_DAYS) else \
            _dispatch_one(session, r, now)
        if r.status == "queued":
            report.queued += 1
        elif r.status == "suppressed":
            report.suppressed[outcome] = report.suppressed.get(outcome, 0) + 1
        else:
            report.held[outcome] = report.held.get(outcome, 0) + 1
    session.flush()
    return report


def _suppress(r: Reminder, reason: str) -> str:
    r.status, r.reason = "suppressed", reason
    return reason


def _dispatch_one(session: Session, r: Reminder, now: datetime) -> str:
    loan = get_loan(session, r.loan_id)
    pref = preference(session, r.customer_id)
    lang = pref.lang if pref is not None else "zh"
    zone = _zone(pref)
    template = template_for(session, r.kind, lang)
    if not template.active:
        return _suppress(r, "template_inactive")
    if template.category == MARKETING and pref is not None and pref.marketing_opt_out:
        return _suppress(r, "opted_out")
    if template.category == REMINDER and pref is not None and pref.reminder_opt_out:
        return _suppress(r, "opted_out")
    if r.kind in _OWING:
        owed = amount_due(session, loan.id, on=r.due_date if r.due_date and r.due_date > r.for_date else r.for_date)
        if owed <= 0:
            return _suppress(r, "paid")
        r.amount_fen = owed
    phone = verified_phone(session, r.customer_id)
    if phone is None:
        return _suppress(r, "no_verified_phone")
    until = quiet_until(now, zone)
    if until is not None:
        r.not_before, r.reason = until, "quiet_hours"
        return "quiet_hours"
    if _take(session, r.loan_id, _local(now, zone).date(), "sms", get_reminder_settings().daily_message_cap) is None:
        r.not_before, r.reason = _next_morning(now, zone), "daily_cap"
        return "daily_cap"
    values = {
        "amount": fmt_yuan(from_fen(r.amount_fen)), "due_date": _format_date(r.due_date, lang),
        "pay_link": f"{get_reminder_settings().base_url.rstrip('/')}/shop/loans/{loan.id}",
        "days": str(loan.dpd if r.kind != LOCK_WARNING else max(loan.dpd, r.dpd)),
        "hotline": get_settings().service_phone,
        **(json.loads(r.extra) if r.extra else {}),
    }
    used = {k: v for k, v in values.items() if "${" + k + "}" in template.body}
    message = notify(session, channel="sms", to=phone, template=f"collections.{r.kind}",
                     body=render(template.body, values), params=used, zone=zone)
    message.sms_template = template.sms_code
    r.status, r.reason, r.notification_id, r.queued_at = "queued", None, message.id, now
    return "queued"
