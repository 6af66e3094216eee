"""Helpers of the reminder tests: a borrower who signed in with their phone, a loan of theirs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.collections.models_reminders import Reminder
from fenqi.identity.service import create_user
from fenqi.kit.db import utcnow
from fenqi.servicing.service import book_loan
from tests.servicing.support import fresh_book

SHANGHAI = ZoneInfo("Asia/Shanghai")


def borrower(session: Session, phone: str = "13912345678", *, signed_in: bool = True) -> int:
    user = create_user(session, role="shopper", display_name="借款人", phone=phone)
    if signed_in:
        user.last_login_at = utcnow()  # the number proven by a sign-in code
    session.flush()
    return user.id


def loan_for(session: Session, customer_id: int | None, start: date = date(2026, 3, 1), ref: str = "rem-1") -> int:
    fresh_book(session, start)
    loan = book_loan(session, external_ref=ref, product_code="EI-12", financed_fen=300_000, term=12,
                     customer_id=customer_id)
    return loan.id


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A Shanghai wall-clock moment, in UTC."""
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI).astimezone(UTC)


def notices(session: Session, loan_id: int) -> list[tuple[str, date]]:
    rows = session.scalars(select(Reminder).where(Reminder.loan_id == loan_id)
                           .order_by(Reminder.for_date, Reminder.kind)).all()
    return [(r.kind, r.for_date) for r in rows]
