"""Close-of-business schedules the day's notices in one set-based statement per chunk of loans.

Closing business date D prepares what the shopper is told on D + 1 (T), from the loan as D's close
leaves it (this step runs after servicing's own steps in the chunk's transaction):

- before due: T is 3 or 1 days before the current installment's due date, or the due date itself
  (`pre_due_3`, `pre_due_1`, `due_today`), for that installment's unpaid amount;
- overdue: the loan's days past due after the close are 1, 3 or 7 (`overdue_1/3/7`), then every 7
  (`overdue_weekly`: 14, 21, …) until it is written off, for everything past due (principal, interest,
  fee, penalties);
- payoff (a day step, once per run): loans paid off on D get their confirmation.

Idempotent: one row per (loan, kind, day) by a unique key, inserted with ON CONFLICT DO NOTHING, so a
chunk retried after a crash, or a day closed twice, schedules nothing twice.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from fenqi.collections.reminders_templates import OVERDUE_FIXED, OVERDUE_WEEKLY, PAYOFF, PRE_DUE
from fenqi.kit.db import utcnow

_COLUMNS = "loan_id, customer_id, kind, for_date, due_date, amount_fen, dpd, status, created_at"
_UNPAID = ("(i.principal_fen - i.paid_principal_fen) + (i.interest_fen - i.paid_interest_fen) "
           "+ (i.fee_fen - i.paid_fee_fen)")
_ARREARS = ("l.interest_receivable_fen + l.fee_receivable_fen + l.penalty_receivable_fen + COALESCE("
            "(SELECT SUM(o.principal_fen - o.paid_principal_fen) FROM installment o "
            "WHERE o.loan_id = l.id AND o.status = 'due'), 0)")


def _pre_due_kind() -> str:
    whens = " ".join(f"WHEN l.cur_due_date = :t{n} THEN '{kind}'" for n, kind in PRE_DUE.items())
    return f"CASE {whens} END"


def _overdue_kind() -> str:
    whens = " ".join(f"WHEN l.dpd = {n} THEN '{kind}'" for n, kind in OVERDUE_FIXED.items())
    return f"CASE {whens} ELSE '{OVERDUE_WEEKLY}' END"


_SCHEDULE = text(
    f"INSERT INTO reminder ({_COLUMNS}) SELECT * FROM ("
    # before due: the current installment (the loan's current period), for what is left of it
    f"SELECT l.id AS loan_id, l.customer_id, {_pre_due_kind()} AS kind, :t0 AS for_date, l.cur_due_date AS due_date, "
    f"{_UNPAID} AS amount_fen, l.dpd, 'scheduled' AS status, :now AS created_at "
    "FROM loan l JOIN installment i ON i.loan_id = l.id AND i.period = l.cur_period "
    "WHERE l.id BETWEEN :lo AND :hi AND l.status IN ('active', 'overdue') AND l.training = false "
    f"AND l.cur_due_date IN ({', '.join(f':t{n}' for n in PRE_DUE)}) AND i.status = 'pending' "
    "UNION ALL "
    # overdue: the loan's arrears, on dpd 1, 3, 7 and every 7 days after
    f"SELECT l.id, l.customer_id, {_overdue_kind()}, :t0, l.oldest_unpaid_due, {_ARREARS}, l.dpd, 'scheduled', :now "
    "FROM loan l WHERE l.id BETWEEN :lo AND :hi AND l.status = 'overdue' AND l.oldest_unpaid_due IS NOT NULL "
    "AND l.training = false "
    f"AND (l.dpd IN ({', '.join(str(n) for n in OVERDUE_FIXED)}) OR (l.dpd > 7 AND l.dpd % 7 = 0))"
    ") AS due_notices WHERE amount_fen > 0 "
    "ON CONFLICT (loan_id, kind, for_date) DO NOTHING"
).bindparams(*(bindparam(f"t{n}", type_=Date) for n in PRE_DUE))

_PAYOFF = text(
    f"INSERT INTO reminder ({_COLUMNS}) SELECT l.id, l.customer_id, '{PAYOFF}', :d, NULL, 0, 0, 'scheduled', :now "
    "FROM loan l WHERE l.status = 'paid_off' AND l.closed_on = :d AND l.customer_id IS NOT NULL "
    "AND l.training = false "
    "ON CONFLICT (loan_id, kind, for_date) DO NOTHING"
).bindparams(bindparam("d", type_=Date))


def schedule_chunk(session: Session, day: date, lo_id: int, hi_id: int) -> int:
    """The chunk step: notices for day + 1 of the loans with ids in [lo_id, hi_id]; returns how many."""
    t = day + timedelta(days=1)
    params = {f"t{n}": t + timedelta(days=n) for n in PRE_DUE}
    result = session.execute(_SCHEDULE, {"lo": lo_id, "hi": hi_id, "now": utcnow(), **params})
    return int(getattr(result, "rowcount", 0) or 0)


def schedule_payoffs(session: Session, day: date) -> None:
    """The day step: a confirmation for every loan paid off on `day`."""
    session.execute(_PAYOFF, {"d": day, "now": utcnow()})
