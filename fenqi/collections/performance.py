"""Collector performance and the lead's view: open cases by bucket and by collector, roll rates.

- **cases**: open cases held now, and cases closed (cured, paid off, settled) while assigned;
- **contacts**: entries in the contact log written by the collector (calls, SMS, visits, notes);
- **recovered**: payments on the loans of the collector's cases, from the business date each case was
  opened to the date it closed (or today);
- **promises**: taken by the collector, and how many of those decided were kept.

Roll rates come from the cases' worst bucket: of the cases that ever reached bucket B, the share that went
on to reach the next bucket (a flow rate over every case so far; the loans' statuses and buckets today are
shown beside it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from fenqi.collections.cases import BUCKET_ORDER
from fenqi.collections.loanview import loan, repayment
from fenqi.collections.models_cases import (
    CaseStatus,
    CloseReason,
    CollectionCase,
    LoanNote,
    PromiseStatus,
    PromiseToPay,
)


@dataclass
class CollectorFigures:
    user_id: int
    name: str
    open_cases: int = 0
    resolved_cases: int = 0
    contacts: int = 0
    recovered_fen: int = 0
    promises: int = 0
    promises_kept: int = 0
    promises_broken: int = 0

    @property
    def kept_rate(self) -> str:
        decided = self.promises_kept + self.promises_broken
        return f"{self.promises_kept * 100 // decided}%" if decided else "—"


def collector_figures(session: Session, collectors: dict[int, str], today: date) -> list[CollectorFigures]:
    figures = {uid: CollectorFigures(uid, name) for uid, name in collectors.items()}
    ids = list(figures)
    if not ids:
        return []
    resolved = (CloseReason.CURED, CloseReason.PAID_OFF, CloseReason.SETTLED)
    for uid, status, reason, n in session.execute(
        select(CollectionCase.assigned_user_id, CollectionCase.status, CollectionCase.close_reason, func.count())
        .where(CollectionCase.assigned_user_id.in_(ids))
        .group_by(CollectionCase.assigned_user_id, CollectionCase.status, CollectionCase.close_reason)):
        if uid is None:
            continue
        if status == CaseStatus.OPEN:
            figures[uid].open_cases += int(n)
        elif reason in resolved:
            figures[uid].resolved_cases += int(n)
    for uid, n in session.execute(select(LoanNote.author_user_id, func.count())
                                  .where(LoanNote.author_user_id.in_(ids)).group_by(LoanNote.author_user_id)):
        figures[uid].contacts = int(n)
    c = CollectionCase
    recovered = session.execute(
        select(c.assigned_user_id, func.coalesce(func.sum(repayment.c.amount_fen), 0))
        .join(repayment, and_(repayment.c.loan_id == c.loan_id, repayment.c.business_date >= c.opened_on,
                              or_(c.closed_on.is_(None), repayment.c.business_date <= c.closed_on)))
        .where(c.assigned_user_id.in_(ids)).group_by(c.assigned_user_id))
    for uid, fen in recovered:
        figures[uid].recovered_fen = int(fen)
    for uid, status, n in session.execute(
        select(PromiseToPay.user_id, PromiseToPay.status, func.count()).where(PromiseToPay.user_id.in_(ids))
        .group_by(PromiseToPay.user_id, PromiseToPay.status)):
        f = figures[uid]
        f.promises += int(n)
        if status == PromiseStatus.KEPT:
            f.promises_kept += int(n)
        elif status == PromiseStatus.BROKEN:
            f.promises_broken += int(n)
    return sorted(figures.values(), key=lambda f: (-f.recovered_fen, f.user_id))


@dataclass
class BucketFigures:
    bucket: str
    cases: int = 0
    unassigned: int = 0
    overdue_fen: int = 0
    loans: int = 0  # loans in the bucket now (from the loans' own status)
    roll_rate: str = "—"  # share of cases that reached this bucket and went on to the next


@dataclass
class SupervisorView:
    buckets: list[BucketFigures] = field(default_factory=list)
    loan_statuses: dict[str, int] = field(default_factory=dict)


def supervisor_view(session: Session) -> SupervisorView:
    view = SupervisorView(buckets=[BucketFigures(b) for b in BUCKET_ORDER])
    by = {b.bucket: b for b in view.buckets}
    for bucket, n, unassigned, fen in session.execute(
        select(CollectionCase.bucket, func.count(),
               func.sum(case((CollectionCase.assigned_user_id.is_(None), 1), else_=0)),
               func.coalesce(func.sum(CollectionCase.overdue_fen), 0))
        .where(CollectionCase.status == CaseStatus.OPEN).group_by(CollectionCase.bucket)):
        if bucket in by:
            by[bucket].cases, by[bucket].unassigned, by[bucket].overdue_fen = int(n), int(unassigned or 0), int(fen)
    for status, bucket, n in session.execute(select(loan.c.status, loan.c.bucket, func.count())
                                             .group_by(loan.c.status, loan.c.bucket)):
        view.loan_statuses[status] = view.loan_statuses.get(status, 0) + int(n)
        if status == "overdue" and bucket in by:
            by[bucket].loans += int(n)
    reached = [0] * len(BUCKET_ORDER)
    for worst, n in session.execute(select(CollectionCase.worst_bucket, func.count())
                                    .group_by(CollectionCase.worst_bucket)):
        rank = BUCKET_ORDER.index(worst) if worst in BUCKET_ORDER else 0
        for i in range(rank + 1):
            reached[i] += int(n)
    for i, b in enumerate(view.buckets[:-1]):
        if reached[i]:
            b.roll_rate = f"{reached[i + 1] * 100 // reached[i]}%"
    return view
