"""The business date (营业日): advanced by the close-of-business batch, not by the wall clock."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from fenqi.kit.db import Base


class BusinessDate(Base):
    __tablename__ = "business_date"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1: a single row
    current: Mapped[date] = mapped_column(Date)


def business_date(session: Session) -> date:
    """Today's business date; on a fresh database, the calendar date."""
    row = session.scalar(select(BusinessDate).where(BusinessDate.id == 1))
    return row.current if row else date.today()


def set_business_date(session: Session, value: date) -> None:
    row = session.get(BusinessDate, 1)
    if row is None:
        session.add(BusinessDate(id=1, current=value))
    else:
        row.current = value
    session.flush()
