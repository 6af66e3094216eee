"""Helpers shared by the console pages: money and rate display, the merchant a page is about."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from fenqi.catalog.service import first_merchant_id, get_merchant
from fenqi.identity.deps import Principal
from fenqi.identity.roles import MERCHANT_ROLES
from fenqi.kit.errors import Forbidden, InvalidInput, NotFound
from fenqi.kit.money import fmt_yuan, from_fen
from fenqi.web.render import TEMPLATES

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "submitted": ("已提交", "Submitted"), "referred": ("人工审核中", "In manual review"),
    "approved": ("已批准", "Approved"), "declined": ("已拒绝", "Declined"), "signed": ("已签约", "Signed"),
    "cancelled": ("已取消", "Cancelled"), "unfunded": ("资金不足", "No funding"),
    "active": ("正常", "Active"), "overdue": ("逾期", "Overdue"), "paid_off": ("已结清", "Paid off"),
    "written_off": ("已核销", "Written off"), "pending": ("待支付", "Pending"), "paid": ("已支付", "Paid"),
    "closed": ("已关闭", "Closed"), "failed": ("失败", "Failed"), "refunded": ("已退款", "Refunded"),
    "proposed": ("待审批", "Proposed"), "rejected": ("已驳回", "Rejected"), "resolved": ("已自动消除", "Resolved"),
    "due": ("已到期", "Due"), "partial": ("部分还款", "Partly paid"),
}


def yuan(fen: int | None) -> str:
    """Integer fen → "5,999.00" for display (amounts in JSON stay "5999.00")."""
    if fen is None:
        return "—"
    return f"{from_fen(int(fen)):,.2f}"


def status_label(status: str | None, lang: str) -> str:
    if not status:
        return "—"
    zh, en = STATUS_LABELS.get(status, (status, status))
    return zh if lang == "zh" else en


def yuan_plain(fen: int) -> str:
    """Integer fen → "5999.00" (for form values)."""
    return fmt_yuan(from_fen(int(fen)))


TEMPLATES.env.filters["yuan"] = yuan
TEMPLATES.env.filters["yuan_plain"] = yuan_plain
TEMPLATES.env.globals["status_label"] = status_label


def merchant_in_scope(session: Session, who: Principal, requested: int | None = None) -> int:
    """The merchant a merchant-console page is about: the clerk's or owner's own; an admin may pick one
    (default: the first)."""
    if who.role in MERCHANT_ROLES:
        if who.merchant_id is None:
            raise Forbidden()
        return who.merchant_id
    if requested is not None:
        get_merchant(session, requested)  # NotFound when there is no such merchant
        return requested
    first = first_merchant_id(session)
    if first is None:
        raise NotFound.saying("商户", "merchant")
    return int(first)


def parse_day(raw: str | None, default: date) -> date:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"date {raw} (YYYY-MM-DD)", zh="日期格式应为 年-月-日，例如 2026-12-01",
                           en="A date is written year-month-day, e.g. 2026-12-01") from None
