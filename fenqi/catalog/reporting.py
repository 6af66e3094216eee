"""Read-only selectables for reporting (analytics): the stores' names, and the training merchants whose
practice (培训模式) every report leaves out."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, select

from fenqi.catalog.models import Merchant, Store


def stores() -> Subquery:
    return (select(Store.id.label("store_id"), Store.name, Store.merchant_id)
            .where(Store.merchant_id.not_in(training_merchants())).subquery("rep_stores"))


def training_merchants() -> Select[Any]:
    """The ids of the training merchants (培训模式)."""
    return select(Merchant.id).where(Merchant.training.is_(True))


def merchant_scope(merchant_column: Any, merchant_id: int | None) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a figure: one merchant's rows (the merchant console shows only its own business,
    practice included), or every merchant's but the training merchants' practice."""
    if merchant_id is None:
        return [merchant_column.not_in(training_merchants())]
    return [merchant_column == merchant_id]
