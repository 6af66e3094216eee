"""A risk officer's approval with a counter-offer: a referred application approved on another plan (term,
down payment, plan product) that the decision's grade allows and its credit limit covers. The plan is
checked and priced before the verdict is recorded, so an offer outside the limit changes nothing; the
shopper and the clerk then see the approved plan beside the one applied for, and signing accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.identity.service import audit
from fenqi.kit.clock import business_date
from fenqi.kit.errors import DomainError, NotFound
from fenqi.kit.money import fmt_yuan, from_fen
from fenqi.origination.errors import ApplicationState, CounterOfferAboveLimit, CounterOfferNotAllowed
from fenqi.origination.models import Application
from fenqi.origination.plans import price_plan
from fenqi.origination.service import plan_fields
from fenqi.pricing.service import get_product
from fenqi.risk.schemas import AllowedPlan
from fenqi.risk.service import get_decision, requested_plan, review


def counter_offer(
    session: Session, decision_id: int, *, product: str, term: int, down_payment: Decimal | str | None, note: str,
    reviewer_id: int | None,
) -> Application:
    """Approve a referred decision on the given plan instead of the one applied for. Does not commit."""
    app = session.scalar(select(Application).where(Application.decision_id == decision_id))
    if app is None:
        raise NotFound.saying(f"决策 {decision_id} 对应的申请", f"application of decision {decision_id}")
    if app.status != "referred":
        raise ApplicationState(app.status)
    decision = get_decision(session, decision_id)
    allowed = {(p.product_code, t) for p in decision.allowed_plans for t in p.terms}
    if (product, term) not in allowed:
        raise _not_allowed(session, product, term, decision.allowed_plans)
    option = price_plan(session, price_fen=app.price_fen, product_code=product, term=term,
                        down_payment=down_payment or None, start=business_date(session))
    fields = plan_fields(option)
    if fields["financed_fen"] > decision.credit_limit_fen:
        raise CounterOfferAboveLimit(f"{from_fen(fields['financed_fen']):,.2f}",
                                     limit=f"{from_fen(decision.credit_limit_fen):,.2f}")
    for key, value in fields.items():
        setattr(app, key, value)
    session.flush()
    # The verdict moves the application on (origination's review handler routes it on this plan).
    review(session, decision_id, approve=True, note=note, reviewer_id=reviewer_id)
    audit(session, actor_user_id=reviewer_id, action="origination.counter_offer", subject=f"application:{app.id}",
          detail=f"{product} × {term}, down payment {fmt_yuan(from_fen(app.down_payment_fen))}")
    return app


def _not_allowed(session: Session, product: str, term: int, plans: list[AllowedPlan]) -> CounterOfferNotAllowed:
    """The refusal, naming the plans by their names in each language."""
    def name(code: str, lang: str) -> str:
        try:
            found = get_product(session, code)
        except DomainError:
            return code
        return found.name_zh if lang == "zh" else found.name_en

    zh = CounterOfferNotAllowed.zh.format(detail=f"{name(product, 'zh')} {term}期", allowed="；".join(
        f"{name(p.product_code, 'zh')} {'/'.join(map(str, p.terms))}期" for p in plans) or "—")
    en = CounterOfferNotAllowed.en.format(detail=f"{name(product, 'en')}, {term} months", allowed="; ".join(
        f"{name(p.product_code, 'en')}, {'/'.join(map(str, p.terms))} months" for p in plans) or "—")
    return CounterOfferNotAllowed(f"{product} × {term}", zh=zh, en=en)


@dataclass(frozen=True, slots=True)
class Adjusted:
    """The plan applied for, when the approved plan differs from it."""

    product_code: str
    term: int
    down_payment_fen: int
    financed_fen: int
    installment_fen: int


def adjusted(session: Session, app: Application) -> Adjusted | None:
    """The plan the shopper applied for, if the approved plan is another (a counter-offer or a plan
    chosen within the approval); None when they are the same or nothing was decided."""
    if app.decision_id is None or app.status not in ("approved", "signed"):
        return None
    asked = requested_plan(session, app.decision_id)
    if asked is None:
        return None
    product, term, financed, installment = asked
    if (product, term, financed) == (app.product_code, app.term, app.financed_fen):
        return None
    return Adjusted(product or app.product_code, term, app.price_fen - financed, financed, installment)
