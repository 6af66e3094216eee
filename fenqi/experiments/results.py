"""An experiment's results per arm: shoppers shown the menu, how many signed (conversion), and of their
loans how many fell 30+ days past due within the first 120 days on book (early delinquency), each arm
tested against the first (the control) with a two-proportion z-test.

A shopper converts when an application of theirs was signed after they were first shown the menu (and no
later than 30 days after the experiment stopped). Early delinquency is read from the close-of-business
snapshots of the loans those applications booked, not from the journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from fenqi.experiments.arms import Arm, parse_arms
from fenqi.experiments.models import Experiment, Exposure
from fenqi.experiments.stats import ZTest, two_proportion_z
from fenqi.origination import reporting as origination_rep
from fenqi.servicing import reporting as servicing_rep

EARLY_DAYS = 120  # "early": 30+ dpd reached within this many days of booking (a missed first or second payment)
EARLY_DPD = 30
ATTRIBUTION_DAYS = 30  # signings this long after the stop still count for the arm the shopper saw


@dataclass(frozen=True, slots=True)
class ArmResult:
    arm: Arm
    exposed: int  # shoppers shown the menu in this arm
    linked: int  # of them, known as a shopper account (signed in, or applied later)
    signed: int  # of them, with an application signed after the first view
    loans: int  # loans booked from those applications
    early_bad: int  # of the loans, 30+ dpd within EARLY_DAYS of booking
    conversion_test: ZTest | None  # against the control (None for the control itself)
    early_test: ZTest | None

    @property
    def conversion(self) -> Decimal | None:
        return rate(self.signed, self.exposed)

    @property
    def early_rate(self) -> Decimal | None:
        return rate(self.early_bad, self.loans)


def rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / whole).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP) if whole else None


def _signing_window(experiment: Experiment) -> datetime | None:
    return experiment.stopped_at + timedelta(days=ATTRIBUTION_DAYS) if experiment.stopped_at else None


def results(session: Session, experiment: Experiment) -> list[ArmResult]:
    arms = parse_arms(experiment.arms)
    e, a = Exposure, origination_rep.applications()
    exposed = {row.arm: (row.n, row.linked) for row in session.execute(
        select(e.arm, func.count().label("n"), func.count(e.user_id).label("linked"))
        .where(e.experiment_id == experiment.id).group_by(e.arm))}
    joined = and_(a.c.shopper_user_id == e.user_id, a.c.signed_at.is_not(None), a.c.signed_at >= e.first_seen_at)
    until = _signing_window(experiment)
    if until is not None:
        joined = and_(joined, a.c.signed_at <= until)
    signed: dict[str, int] = {arm: n for arm, n in session.execute(
        select(e.arm, func.count(func.distinct(e.id))).join(a, joined)
        .where(e.experiment_id == experiment.id).group_by(e.arm))}
    loans = _early(session, experiment, joined)
    out: list[ArmResult] = []
    for arm in arms:
        n, linked = exposed.get(arm.code, (0, 0))
        booked, bad = loans.get(arm.code, (0, 0))
        out.append(ArmResult(arm, n, linked, signed.get(arm.code, 0), booked, bad, None, None))
    control = out[0]
    return [control] + [
        ArmResult(r.arm, r.exposed, r.linked, r.signed, r.loans, r.early_bad,
                  two_proportion_z(control.signed, control.exposed, r.signed, r.exposed),
                  two_proportion_z(control.early_bad, control.loans, r.early_bad, r.loans))
        for r in out[1:]]


def _early(session: Session, experiment: Experiment, joined: ColumnElement[bool]) -> dict[str, tuple[int, int]]:
    """Per arm: loans booked from converted shoppers' applications, and those 30+ dpd within EARLY_DAYS."""
    e, a = Exposure, origination_rep.applications()
    loan, snap = servicing_rep.loans(), servicing_rep.day_balances()
    booked = (select(e.arm, a.c.loan_id).join(a, joined)
              .where(e.experiment_id == experiment.id, a.c.loan_id.is_not(None)).distinct().subquery("exp_loans"))
    first_bad = (select(snap.c.loan_id, func.min(snap.c.business_date).label("first_bad"))
                 .where(snap.c.dpd >= EARLY_DPD, snap.c.loan_id.in_(select(booked.c.loan_id)))
                 .group_by(snap.c.loan_id).subquery("exp_first_bad"))
    rows = session.execute(
        select(booked.c.arm, loan.c.booked_on, first_bad.c.first_bad)
        .join(loan, loan.c.loan_id == booked.c.loan_id)
        .outerjoin(first_bad, first_bad.c.loan_id == booked.c.loan_id))
    out: dict[str, tuple[int, int]] = {}
    for arm, booked_on, bad_on in rows:
        n, bad = out.get(arm, (0, 0))
        out[arm] = (n + 1, bad + int(_early_bad(booked_on, bad_on)))
    return out


def _early_bad(booked_on: date, first_bad: date | None) -> bool:
    return first_bad is not None and first_bad <= booked_on + timedelta(days=EARLY_DAYS)
