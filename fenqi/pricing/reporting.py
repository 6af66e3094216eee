"""Read-only selectables for reporting (analytics): the products' names."""

from __future__ import annotations

from sqlalchemy import Subquery, select

from fenqi.pricing.models import Product


def products() -> Subquery:
    return select(Product.id.label("product_id"), Product.code, Product.name_zh, Product.name_en,
                  Product.method).subquery("rep_products")
