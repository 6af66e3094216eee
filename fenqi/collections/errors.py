"""Collections' errors (a code, an HTTP status, zh-CN and English)."""

from __future__ import annotations

from fenqi.kit.errors import DomainError


class CallCapReached(DomainError):
    code = "call_cap_reached"
    status = 409
    zh = "该笔借款今日拨打次数已达上限（{cap} 次），请明天再联系"
    en = "This loan's borrower has been called {cap} times today, the daily limit: try again tomorrow"


class QuietHours(DomainError):
    code = "quiet_hours"
    status = 409
    zh = "22:00–08:00（借款人当地时间）为免打扰时段，不得联系；可于 {until} 后联系"
    en = "No contact between 22:00 and 08:00 in the borrower's time zone; contact after {until}"


class ThirdPartyContact(DomainError):
    code = "third_party_contact"
    status = 403
    zh = "只能联系借款人本人（已验证的手机号），不得联系第三方"
    en = "Only the borrower may be contacted, on their own verified number; never a third party"


class UnknownNoticeKind(DomainError):
    code = "unknown_notice_kind"
    status = 400
    zh = "未知的通知类型：{detail}"
    en = "Unknown notice kind: {detail}"


class MessageCapReached(DomainError):
    code = "message_cap_reached"
    status = 409
    zh = "该笔借款今日短信已达上限（{cap} 条），请明天再发送"
    en = "This loan's borrower has had {cap} messages today, the daily limit: send it tomorrow"


class NoticeNotSent(DomainError):
    code = "notice_not_sent"
    status = 409
    zh = "短信未发送：{detail}"
    en = "The message was not sent: {detail}"
