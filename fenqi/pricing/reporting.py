"""Reporting's reads of the products (analytics): a read-only selectable of their names, and the names of
given product ids, so that reports name plans without importing pricing's tables."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import Subquery, select
from sqlalchemy.orm import Session

from fenqi.pricing.models import Product


class ProductName(NamedTuple):
    code: str
    name_zh: str
    name_en: str


def products() -> Subquery:
    return select(Product.id.label("product_id"), Product.code, Product.name_zh, Product.name_en,
                  Product.method).subquery("rep_products")


def product_names_by_id(session: Session, product_ids: Iterable[int]) -> dict[int, ProductName]:
    """Each known product's code and names by id, in one query; unknown ids are left out."""
    wanted = set(product_ids)
    if not wanted:
        return {}
    rows = session.execute(select(Product.id, Product.code, Product.name_zh, Product.name_en)
                           .where(Product.id.in_(wanted)))
    return {pid: ProductName(code, zh, en) for pid, code, zh, en in rows}
