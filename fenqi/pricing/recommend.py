"""Personalized plans: which plans of a menu fit a shopper and which one to recommend.

A plan fits when its highest installment stays within a share of the shopper's stated monthly income
(`FENQI_PLAN_INCOME_SHARE`, default 30%), its financed amount within the credit limit of the shopper's
decision, and — when the decision names the plans its grade allows — it is one of them. The recommended
plan is the fitting plan the shopper really pays least for (down payment + every installment), then the
lower installment, then the shorter term. Nothing is left out: plans that do not fit are still listed,
after the fitting ones, and every plan keeps its figures, so a cheaper plan is never hidden.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from fenqi.pricing.menu import PlanOption

SHARE_PLACES = Decimal("0.0001")
DEFAULT_INCOME_SHARE = Decimal("0.30")


@dataclass(frozen=True, slots=True)
class ShopperFit:
    """What is known of the shopper: stated monthly income (yuan), the decision's limit and grade, and
    the (product, term) pairs the decision allows (None: no decision, or it allows every plan)."""

    monthly_income: Decimal | None = None
    credit_limit: Decimal | None = None
    grade: str | None = None
    allowed: frozenset[tuple[str, int]] | None = None

    @property
    def known(self) -> bool:
        return self.monthly_income is not None or self.credit_limit is not None or self.allowed is not None


@dataclass(frozen=True, slots=True)
class Advice:
    ordered: list[PlanOption]  # every plan of the menu: the recommended first, then fitting, then the rest
    recommended: PlanOption | None
    fitting: frozenset[tuple[str, int]]  # (product, term) of the plans that fit
    max_share: Decimal


def highest_installment(option: PlanOption) -> Decimal:
    return max(i.total for i in option.quote.installments)


def total_paid(option: PlanOption) -> Decimal:
    """What the shopper really pays: the down payment and every installment (interest and fees included)."""
    return option.quote.request.down_payment + option.quote.total_repayment


def installment_share(option: PlanOption, income: Decimal | None) -> Decimal | None:
    """The plan's highest installment over the monthly income (0.1834 = 18.34%); None without an income."""
    if income is None or income <= 0:
        return None
    return (highest_installment(option) / income).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def key(option: PlanOption) -> tuple[str, int]:
    return option.product.code, option.quote.request.term


def fits(option: PlanOption, shopper: ShopperFit, max_share: Decimal) -> bool:
    if shopper.allowed is not None and key(option) not in shopper.allowed:
        return False
    if shopper.credit_limit is not None and option.quote.financed > shopper.credit_limit:
        return False
    if shopper.monthly_income is not None:
        return highest_installment(option) <= max_share * shopper.monthly_income
    return True


def _cost_order(option: PlanOption) -> tuple[Decimal, Decimal, int, Decimal, str]:
    return (total_paid(option), highest_installment(option), option.quote.request.term, option.quote.apr,
            option.product.code)


def recommend(options: Collection[PlanOption], shopper: ShopperFit,
              max_share: Decimal = DEFAULT_INCOME_SHARE) -> Advice:
    """The menu ordered for this shopper and the plan to recommend (None when nothing is known of the
    shopper or no plan fits)."""
    if not shopper.known:
        return Advice(list(options), None, frozenset(), max_share)
    good = sorted((o for o in options if fits(o, shopper, max_share)), key=_cost_order)
    rest = sorted((o for o in options if not fits(o, shopper, max_share)), key=_cost_order)
    return Advice(good + rest, good[0] if good else None, frozenset(key(o) for o in good), max_share)
