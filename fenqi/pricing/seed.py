"""Demo data for pricing: the installment products."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fenqi.pricing.service import DEMO_PRODUCTS, seed_products


def seed(session: Session) -> list[str]:
    seed_products(session)
    return [f"{len(DEMO_PRODUCTS)} installment products"]
