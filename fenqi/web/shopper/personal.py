"""The plan chooser made personal: what is known of the shopper (stated income, the latest decision's limit,
grade and allowed plans), the plan recommended to them and why, and the menu's order and highlighted plan
— the control's, or the arm of the running plan-menu experiment the shopper falls in (exposure recorded).
Every plan of the menu is always shown; only the order and the marks change."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from fenqi.analytics.funnel import link_visitor_views
from fenqi.experiments import service as experiments
from fenqi.experiments.arms import CONTROL
from fenqi.identity.deps import Principal
from fenqi.kit.money import from_fen
from fenqi.kit.settings import get_settings
from fenqi.origination.service import list_applications
from fenqi.pricing.menu import PlanOption
from fenqi.pricing.recommend import Advice, ShopperFit, installment_share, key, recommend

VISITOR_COOKIE = "fenqi_vid"
VISITOR_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Variant:
    order: str
    highlight: str
    experiment: str = ""
    arm: str = ""


def shopper_fit(session: Session, who: Principal | None, income: Decimal | None) -> ShopperFit:
    """The income typed on the page wins; else the signed-in shopper's latest application's; the limit,
    grade and allowed plans of their latest approval."""
    if who is None or who.role != "shopper":
        return ShopperFit(monthly_income=income)
    apps = list_applications(session, who, limit=20)
    if income is None:
        stated = next((a.profile.get("monthly_income_fen") for a in apps if a.profile.get("monthly_income_fen")), None)
        income = from_fen(int(stated)) if stated else None
    approved = next((a for a in apps if a.outcome == "approve" and a.credit_limit_fen > 0), None)
    if approved is None:
        return ShopperFit(monthly_income=income)
    allowed = frozenset((p["product_code"], int(t)) for p in approved.allowed_plans for t in p["terms"]) or None
    return ShopperFit(monthly_income=income, credit_limit=from_fen(approved.credit_limit_fen),
                      grade=approved.grade, allowed=allowed)


def visitor_token(request: Request) -> tuple[str, bool]:
    """The visitor's cookie token, and whether it is new (to be set on the response)."""
    token = request.cookies.get(VISITOR_COOKIE, "")
    if 16 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum():
        return token, False
    return secrets.token_urlsafe(18), True


def set_visitor(response: Response, token: str) -> None:
    response.set_cookie(VISITOR_COOKIE, token, max_age=VISITOR_MAX_AGE, httponly=True, samesite="lax")


def variant(session: Session, who: Principal | None, token: str, sku_code: str) -> Variant:
    """The running experiment's arm for this shopper (the exposure recorded), else the control's menu."""
    user_id = who.user_id if who is not None and who.role == "shopper" else None
    subject = experiments.user_subject(user_id) if user_id else experiments.visitor_subject(token)
    shown = experiments.expose(session, subject=subject, user_id=user_id, sku_code=sku_code)
    if shown is None:
        return Variant(CONTROL["order"], CONTROL["highlight"])
    return Variant(shown.arm.order, shown.arm.highlight, shown.experiment_code, shown.arm.code)


def link_visitor(session: Session, request: Request, user_id: int) -> None:
    token = request.cookies.get(VISITOR_COOKIE, "")
    if token:
        experiments.link_visitor(session, subject=experiments.visitor_subject(token), user_id=user_id)
        link_visitor_views(session, visitor=token, user_id=user_id)


def advise(options: list[PlanOption], fit: ShopperFit) -> Advice:
    return recommend(options, fit, get_settings().plan_income_share)


def percent(share: Decimal) -> str:
    return f"{(share * 100).quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"


def explanation(advice: Advice, fit: ShopperFit, lang: str) -> dict[str, Any] | None:
    """"为您推荐 12 期：月供占收入 18%" and what it keeps to; None when nothing is known of the shopper."""
    if not fit.known:
        return None
    cap = percent(advice.max_share)
    zh = lang == "zh"
    parts = []
    if fit.monthly_income is not None:
        parts.append(f"月供不超过收入的 {cap}" if zh else f"installment within {cap} of income")
    if fit.credit_limit is not None:
        limit = f"{fit.credit_limit:,.2f}"
        parts.append(f"在您的额度 ¥{limit} 内" if zh else f"within your limit of ¥{limit}")
    if fit.allowed is not None:
        parts.append("属于审批允许的方案" if zh else "a plan your approval allows")
    terms = ("，" if zh else ", ").join(parts)
    if advice.recommended is None:
        text = (f"没有符合条件（{terms}）的方案；提高首付可降低借款金额和月供。" if zh else
                f"No plan fits ({terms}); a larger down payment lowers the amount borrowed and the installment.")
        return {"headline": text, "detail": "", "found": False}
    term = advice.recommended.quote.request.term
    share = installment_share(advice.recommended, fit.monthly_income)
    if share is not None:
        headline = (f"为您推荐 {term} 期：月供占收入 {percent(share)}" if zh else
                    f"Recommended for you: {term} months, the installment is {percent(share)} of your income")
    else:
        headline = f"为您推荐 {term} 期" if zh else f"Recommended for you: {term} months"
    detail = (f"在符合条件（{terms}）的方案中实付最少；其他方案照常列出，可自由选择。" if zh else
              f"The least really paid of the plans that fit ({terms}); every other plan is listed as usual and "
              "yours to choose.")
    return {"headline": headline, "detail": detail, "found": True}


def mark(plans: list[dict[str, Any]], options: list[PlanOption], advice: Advice, fit: ShopperFit,
         highlight: str, lang: str) -> None:
    """Each plan's share of income and fit, and the highlighted (preselected) plan."""
    by_key = {key(o): o for o in options}
    rec = key(advice.recommended) if advice.recommended is not None else None
    for p in plans:
        option = by_key[(p["product"], p["term"])]
        share = installment_share(option, fit.monthly_income)
        p["share"] = percent(share) if share is not None else ""
        p["fits"] = (p["product"], p["term"]) in advice.fitting
        p["recommended"] = (p["product"], p["term"]) == rec
        p["highlight"] = False
    target = _highlighted(plans, highlight, rec)
    if target is not None:
        target["highlight"] = True


def _highlighted(plans: list[dict[str, Any]], highlight: str, rec: tuple[str, int] | None) -> dict[str, Any] | None:
    if highlight == "recommended":
        return next((p for p in plans if (p["product"], p["term"]) == rec), None)
    pool = plans
    if highlight.startswith("term_"):
        pool = [p for p in plans if str(p["term"]) == highlight[5:]]
    elif highlight != "cheapest":
        return None
    return min(pool, key=lambda p: (p["total_paid_d"], p["term"], p["product"])) if pool else None


def order_terms(groups: list[tuple[int, list[dict[str, Any]]]], order: str, rec_term: int | None
                ) -> list[tuple[int, list[dict[str, Any]]]]:
    if order == "term_desc":
        return sorted(groups, key=lambda g: -g[0])
    if order == "recommended_first" and rec_term is not None:
        return sorted(groups, key=lambda g: (g[0] != rec_term, g[0]))
    return sorted(groups, key=lambda g: g[0])
