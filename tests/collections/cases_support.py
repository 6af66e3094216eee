"""Helpers of the case tests: loans booked on the world's sale date, payments, staff."""

from __future__ import annotations

from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.collections.models_cases import CollectionCase
from fenqi.identity.principal import Principal
from fenqi.identity.service import create_user
from fenqi.servicing.service import apply_repayment, book_loan

_refs = count(1)


def book(session: Session, financed_fen: int = 500_000) -> int:
    """A 12-month loan starting on the business date (the world's: first due 28 Dec 2026)."""
    return book_loan(session, external_ref=f"case-test-{next(_refs)}", product_code="EI-12",
                     financed_fen=financed_fen, term=12).id


def pay(session: Session, loan_id: int, amount_fen: int, purpose: str = "installment") -> None:
    apply_repayment(session, loan_id=loan_id, amount_fen=amount_fen, payment_ref=f"case-pay-{next(_refs)}",
                    purpose=purpose)
    session.flush()


def case_of(session: Session, loan_id: int) -> CollectionCase | None:
    session.expire_all()
    return session.scalar(select(CollectionCase).where(CollectionCase.loan_id == loan_id)
                          .order_by(CollectionCase.id.desc()))


def staff(session: Session, role: str = "collector", name: str = "催收员") -> Principal:
    user = create_user(session, role=role, display_name=name)
    return Principal(user.id, role, None, user.display_name)
