"""Read-only selectables for reporting (analytics): the stores' names."""

from __future__ import annotations

from sqlalchemy import Subquery, select

from fenqi.catalog.models import Store


def stores() -> Subquery:
    return select(Store.id.label("store_id"), Store.name, Store.merchant_id).subquery("rep_stores")
