"""Notice templates as data: the defaults seeded into `notice_template` (zh-CN and English), and
rendering with the provider's `${name}` variables."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.collections.models_reminders import NoticeTemplate

LEGAL, REMINDER, MARKETING = "legal", "reminder", "marketing"
# The kinds close-of-business schedules, by days before (−) or after (+) the due date.
PRE_DUE = {3: "pre_due_3", 1: "pre_due_1", 0: "due_today"}
OVERDUE_FIXED = {1: "overdue_1", 3: "overdue_3", 7: "overdue_7"}
OVERDUE_WEEKLY = "overdue_weekly"  # dpd 14, 21, 28, … until the loan is written off
PAYOFF = "payoff"
LOCK_WARNING = "lock_warning"
UPGRADE_OFFER = "upgrade_offer"
PAY_LINK = "pay_link"  # sent on demand by a collector from the case workspace, not by the close


@dataclass(frozen=True)
class Default:
    kind: str
    category: str
    sms_code: str
    zh: str
    en: str


_SIGN = "【分期商城】"
DEFAULTS: tuple[Default, ...] = (
    Default("pre_due_3", REMINDER, "SMS_FQ_PRE_DUE_3",
            _SIGN + "您本期应还 ${amount} 元，将于 ${due_date} 到期，请按时还款：${pay_link}",
            "Fenqi: ${amount} CNY is due on ${due_date}. Pay here: ${pay_link}"),
    Default("pre_due_1", REMINDER, "SMS_FQ_PRE_DUE_1",
            _SIGN + "您本期应还 ${amount} 元，明天（${due_date}）到期，请按时还款：${pay_link}",
            "Fenqi: ${amount} CNY is due tomorrow, ${due_date}. Pay here: ${pay_link}"),
    Default("due_today", LEGAL, "SMS_FQ_DUE_TODAY",
            _SIGN + "您本期应还 ${amount} 元今天（${due_date}）到期，请于今日还款：${pay_link}",
            "Fenqi: ${amount} CNY is due today, ${due_date}. Pay here: ${pay_link}"),
    Default("overdue_1", LEGAL, "SMS_FQ_OVERDUE",
            _SIGN + "您 ${due_date} 到期的账单已逾期 ${days} 天，应还 ${amount} 元。"
            "逾期将产生罚息，请尽快还款：${pay_link}",
            "Fenqi: your bill due ${due_date} is ${days} day(s) overdue; ${amount} CNY to pay. "
            "Late payment incurs penalty interest. Pay here: ${pay_link}"),
    Default("overdue_3", LEGAL, "SMS_FQ_OVERDUE",
            _SIGN + "您 ${due_date} 到期的账单已逾期 ${days} 天，应还 ${amount} 元。"
            "逾期将产生罚息，请尽快还款：${pay_link}",
            "Fenqi: your bill due ${due_date} is ${days} days overdue; ${amount} CNY to pay. "
            "Late payment incurs penalty interest. Pay here: ${pay_link}"),
    Default("overdue_7", LEGAL, "SMS_FQ_OVERDUE",
            _SIGN + "您的账单已逾期 ${days} 天，应还 ${amount} 元。逾期记录可能影响您的信用，请尽快还款：${pay_link}",
            "Fenqi: your bill is ${days} days overdue; ${amount} CNY to pay. It may affect your credit record. "
            "Pay here: ${pay_link}"),
    Default("overdue_weekly", LEGAL, "SMS_FQ_OVERDUE",
            _SIGN + "您的账单已逾期 ${days} 天，应还 ${amount} 元。如有困难可申请纾困方案（客服 ${hotline}），"
            "请尽快还款：${pay_link}",
            "Fenqi: your bill is ${days} days overdue; ${amount} CNY to pay. Hardship plans are available "
            "(call ${hotline}). Pay here: ${pay_link}"),
    Default("payoff", LEGAL, "SMS_FQ_PAYOFF",
            _SIGN + "您的分期已全部还清，感谢您的信任。结清证明可在此查看：${pay_link}",
            "Fenqi: your installment plan is paid off. Thank you. Your payoff statement: ${pay_link}"),
    Default("lock_warning", LEGAL, "SMS_FQ_LOCK_WARNING",
            _SIGN + "您的账单已逾期 ${days} 天，应还 ${amount} 元。如未还款，手机将于 ${lock_date} 起受限使用"
            "（紧急电话和还款不受影响），还款后即刻恢复：${pay_link} 客服 ${hotline}",
            "Fenqi: your bill is ${days} days overdue; ${amount} CNY to pay. Unless paid, the phone will be "
            "restricted from ${lock_date} (emergency calls and payment still work); paying restores it at once: "
            "${pay_link} Help: ${hotline}"),
    Default("pay_link", REMINDER, "SMS_FQ_PAY_LINK",
            _SIGN + "您的账单已逾期 ${days} 天，应还 ${amount} 元，请点击链接还款：${pay_link} 如已还款请忽略。",
            "Fenqi: your bill is ${days} day(s) overdue; ${amount} CNY to pay. Pay here: ${pay_link} "
            "Ignore this if you have paid."),
    Default("upgrade_offer", MARKETING, "SMS_FQ_OFFER",
            _SIGN + "感谢您按时还款，新机分期专享优惠已为您准备好：${pay_link} 拒收请回T",
            "Fenqi: thank you for paying on time. A trade-up offer is waiting for you: ${pay_link} Reply T to opt out"),
)
DEFAULT_BY_KIND = {d.kind: d for d in DEFAULTS}
KINDS = tuple(DEFAULT_BY_KIND)
_VAR = re.compile(r"\$\{(\w+)\}")


def seed_templates(session: Session) -> int:
    """Insert the default templates that are missing (staff's edits are kept); returns how many."""
    have = {(k, lang) for k, lang in session.execute(select(NoticeTemplate.kind, NoticeTemplate.lang))}
    added = 0
    for d in DEFAULTS:
        for lang, body in (("zh", d.zh), ("en", d.en)):
            if (d.kind, lang) not in have:
                session.add(NoticeTemplate(kind=d.kind, lang=lang, category=d.category, sms_code=d.sms_code,
                                           body=body, active=True))
                added += 1
    if added:
        session.flush()
    return added


def template_for(session: Session, kind: str, lang: str) -> NoticeTemplate:
    """The active template of a kind in the shopper's language (zh if there is none in it)."""
    found = {t.lang: t for t in session.scalars(select(NoticeTemplate).where(NoticeTemplate.kind == kind))}
    if not found:
        seed_templates(session)
        found = {t.lang: t for t in session.scalars(select(NoticeTemplate).where(NoticeTemplate.kind == kind))}
    return found.get(lang) or found["zh"]


def variables_of(body: str) -> list[str]:
    return _VAR.findall(body)


def render(body: str, values: dict[str, str]) -> str:
    """The text as the shopper reads it; an unknown variable stays visible rather than vanish."""
    return _VAR.sub(lambda m: values.get(m.group(1), m.group(0)), body)
