"""Demo data: three funding partners, what they fund, and a routing policy with a 10% pilot."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.funding.models import Funder
from fenqi.funding.service import add_product, create_funder, set_policy

ALL_METHODS = ["equal-installment", "equal-principal", "flat-fee", "interest-free"]
FUNDERS: list[dict[str, object]] = [
    {"code": "F-SHBANK", "name": "沪江银行消费金融部", "kind": "bank", "daily_quota_fen": 50_000_000,
     "monthly_quota_fen": 1_000_000_000, "regions": ["31", "32", "33"], "priority": 1,
     "products": [(ALL_METHODS, [3, 6, 12, 24], "0.065", "B"), (ALL_METHODS, [3, 6, 12], "0.072", "C")]},
    {"code": "F-ZHCF", "name": "众合消费金融", "kind": "consumer_finance", "daily_quota_fen": 30_000_000,
     "monthly_quota_fen": 600_000_000, "regions": [], "priority": 2,
     "products": [(ALL_METHODS, [3, 6, 12, 24], "0.085", "D")]},
    {"code": "F-NEWBANK", "name": "南粤新锐银行", "kind": "bank", "daily_quota_fen": 10_000_000,
     "monthly_quota_fen": 200_000_000, "regions": ["44", "31"], "priority": 3,
     "products": [(["equal-installment", "interest-free"], [6, 12], "0.070", "C")]},
]


def seed(session: Session) -> list[str]:
    if session.scalar(select(Funder.id).where(Funder.code == FUNDERS[0]["code"])) is not None:
        return ["funding: demo partners already present"]
    for spec in FUNDERS:
        fields = {k: v for k, v in spec.items() if k != "products"}
        create_funder(session, **fields)  # type: ignore[arg-type]
        for methods, terms, rate, grade in spec["products"]:  # type: ignore[attr-defined]
            add_product(session, funder_code=str(spec["code"]), methods=methods, terms=terms,
                        annual_rate=Decimal(rate), min_grade=grade)
    set_policy(session, strategy="lowest_cost", pilot_funder="F-NEWBANK", pilot_share=Decimal("0.10"),
               note="演示：成本最低优先，10% 试点分流至南粤新锐银行")
    return [f"funding: {len(FUNDERS)} partners, lowest-cost routing with a 10% pilot"]
