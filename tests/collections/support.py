"""Helpers of the collections tests: a sold phone on a loan, days closed by close-of-business."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from tests.origination.world import World
from tests.web_console.helpers import sell

FIRST_DUE = date(2026, 12, 28)  # the world's sales start on 28 Nov 2026


def sold(session: Session, world: World, **overrides: Any) -> Any:
    return sell(session, world, **overrides)


def signed_in(session: Session, loan_id: int) -> int:
    """The loan's borrower has signed in with their phone (a number proven by a sign-in code is the only
    one the contact rules let the platform message); returns their user id."""
    from fenqi.identity.models import User
    from fenqi.kit.db import utcnow
    from fenqi.servicing.service import get_loan

    customer = get_loan(session, loan_id).customer_id
    assert customer is not None, "the till sale makes the borrower's account"
    session.get_one(User, customer).last_login_at = utcnow()
    session.flush()
    return customer


def close_through(session: Session, last: date) -> None:
    """Close every business date from today's through `last` (the business date is then last + 1)."""
    from fenqi.servicing.cob_runs import close_day

    day = business_date(session)
    while day <= last:
        session.flush()
        close_day(session.connection(), day)
        session.expire_all()
        day += timedelta(days=1)
