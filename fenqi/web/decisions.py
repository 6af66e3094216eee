"""A decision as the shopper and the clerk read it: the reasons in plain words, said once; after a decline,
the plans the rules would approve (fenqi.origination.suggestions); after a counter-offer, the plan applied
for beside the one approved. Shared by the shopper's decision page and the clerk's application page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from fenqi.catalog.service import sku_name
from fenqi.kit.errors import DomainError
from fenqi.kit.money import from_fen
from fenqi.origination.counter_offer import adjusted
from fenqi.origination.suggestions import Suggestion, suggestions
from fenqi.pricing.service import get_product
from fenqi.risk.reasons import plain_reasons
from fenqi.risk.service import get_decision
from fenqi.web.labels import label

if TYPE_CHECKING:  # the application comes from origination's service; its table is not read here
    from fenqi.origination.models import Application


def _yuan(fen: int) -> str:
    return f"{from_fen(fen):,.2f}"


# The decisions whose reasons are said: a decline's, and a referral's while it waits. An approval's stored
# reasons are the score's heaviest factors, which read as objections; an approved shopper is not told them.
_EXPLAINED = ("declined", "referred", "submitted")


def reasons(app: Application, lang: str) -> list[str]:
    return plain_reasons(app.reasons or [], lang) if app.status in _EXPLAINED else []


def _product(session: Session, code: str, lang: str) -> str:
    try:
        product = get_product(session, code)
    except DomainError:
        return code
    return product.name_zh if lang == "zh" else product.name_en


def _headline(session: Session, s: Suggestion, lang: str) -> str:
    zh = lang == "zh"
    if s.kind == "down_payment":
        down = _yuan(s.down_payment_fen)
        return f"首付提高到 ¥{down}" if zh else f"Raise the down payment to ¥{down}"
    if s.kind == "term":
        return f"分期期数延长到 {s.term} 期" if zh else f"Spread it over {s.term} months"
    phone = sku_name(session, s.sku_code, lang)
    return f"换一款更实惠的手机：{phone}（¥{_yuan(s.price_fen)}）" if zh else \
        f"A less expensive phone: {phone} (¥{_yuan(s.price_fen)})"


def suggestion_views(session: Session, app: Application, lang: str) -> list[dict[str, Any]]:
    """The suggestions of a declined application, ready for a page (empty when nothing would pass)."""
    return [{
        "key": s.key, "kind": s.kind, "headline": _headline(session, s, lang),
        "product": _product(session, s.product_code, lang), "term": s.term, "apr": s.apr,
        "down_payment": _yuan(s.down_payment_fen), "monthly": _yuan(s.installment_fen), "price": _yuan(s.price_fen),
    } for s in suggestions(session, app)]


def adjusted_view(session: Session, app: Application, lang: str) -> dict[str, Any] | None:
    """The plan applied for, when the approved plan differs from it (a reviewer's counter-offer)."""
    asked = adjusted(session, app)
    if asked is None:
        return None
    return {"product": _product(session, asked.product_code, lang), "term": asked.term,
            "down_payment": _yuan(asked.down_payment_fen), "financed": _yuan(asked.financed_fen),
            "monthly": _yuan(asked.installment_fen)}


def outcome_text(session: Session, app: Application, lang: str, *, adjusted_plan: bool) -> str:
    """The decision as it stands: a referral reads as what the reviewer decided once they have, so that an
    application approved on review (on the plan applied for or a counter-offer) does not still say 转人工."""
    if not app.outcome:
        return "—"
    if app.outcome != "refer" or app.decision_id is None:
        return label("outcome", app.outcome, lang)
    review = get_decision(session, app.decision_id).review_status
    zh = lang == "zh"
    if review == "approved":
        if adjusted_plan:
            return "人工审核批准（调整方案）" if zh else "Approved on review, on an adjusted plan"
        return "人工审核批准" if zh else "Approved on review"
    if review == "declined":
        return "人工审核拒绝" if zh else "Declined on review"
    return "转人工审核中" if zh else "Referred to review, waiting"
