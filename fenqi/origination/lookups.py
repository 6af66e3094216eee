"""Applications as the staff consoles list them: by id for a review queue, a merchant's newest, those of
loans (the loan console), the loans of a shopper found by their ID or mobile number, and the phones sold
per store (after-sales' return rates).
Pages read applications here rather than querying origination's table themselves."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fenqi.catalog.reporting import training_merchants
from fenqi.origination.models import Application


def applications_by_id(session: Session, ids: Iterable[int]) -> dict[int, Application]:
    """The applications with these ids, by id (those that do not exist are left out), in one query."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {a.id: a for a in session.scalars(select(Application).where(Application.id.in_(wanted)))}


def merchant_applications(session: Session, merchant_id: int, status: str = "", limit: int = 100) -> list[Application]:
    """A merchant's newest applications, of one status when `status` is given."""
    query = select(Application).where(Application.merchant_id == merchant_id)
    if status:
        query = query.where(Application.status == status)
    return list(session.scalars(query.order_by(Application.id.desc()).limit(limit)))


def applications_of_loans(session: Session, loan_ids: Iterable[int]) -> dict[int, Application]:
    """The application each of these loans came from, by loan id (a loan without one is left out)."""
    wanted = set(loan_ids)
    if not wanted:
        return {}
    rows = session.scalars(select(Application).where(Application.loan_id.in_(wanted)).order_by(Application.id))
    found: dict[int, Application] = {}
    for app in rows:
        if app.loan_id is not None:
            found.setdefault(app.loan_id, app)
    return found


def loan_ids_where(session: Session, *, id_hash: str | None = None, phone_hash: str | None = None,
                   application_id: int | None = None) -> set[int]:
    """The loans of the applications with this ID number's or mobile's blind index, or of this application."""
    query = select(Application.loan_id).where(Application.loan_id.is_not(None))
    if id_hash is not None:
        query = query.where(Application.id_hash == id_hash)
    if phone_hash is not None:
        query = query.where(Application.phone_hash == phone_hash)
    if application_id is not None:
        query = query.where(Application.id == application_id)
    return {int(i) for i in session.scalars(query) if i is not None}


def sold_per_sku_and_store(session: Session, training: bool = False) -> dict[tuple[str, int], int]:
    """Phones sold on a loan, per (SKU code, store id): of the training merchants' practice (`training`) or
    of the real business (the default)."""
    practice = training_merchants()
    merchant = Application.merchant_id
    of_book = merchant.in_(practice) if training else or_(merchant.is_(None), merchant.not_in(practice))
    rows = session.execute(select(Application.sku_code, Application.store_id, func.count())
                           .where(Application.loan_id.is_not(None), of_book)
                           .group_by(Application.sku_code, Application.store_id))
    return {(sku, store_id): int(n) for sku, store_id, n in rows}
