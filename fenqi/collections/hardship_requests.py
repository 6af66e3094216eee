"""The shopper's hardship requests (纾困申请) and their outcome.

A request is recorded from the overdue page with status `requested`. Staff answer it with a hardship
arrangement (fenqi.servicing.hardship) proposed with the request's id; servicing tells collections of the
arrangement's every step through its `on_arrangement` port (registered by fenqi.collections.hooks), and
the request follows:

    requested → in_review (an arrangement proposed for it) → approved (→ settled | expired for a
    settlement offer) | rejected (staff may propose another arrangement for it)

The overdue page and the case workspace show each request with its outcome: the plan approved (its kind,
the new schedule's APR, a settlement's amount and last day) or the rejection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.collections.models_cases import HardshipRequest
from fenqi.kit.errors import Conflict, InvalidInput
from fenqi.servicing.hardship import arrangements

if TYPE_CHECKING:
    from fenqi.servicing.models import HardshipArrangement

HARDSHIP_KINDS = ("holiday", "restructure", "settlement")
OPEN = ("requested", "rejected", "expired")  # a new arrangement may be proposed for these
# The request's status after its arrangement's.
_FOLLOWS = {"proposed": "in_review", "approved": "approved", "rejected": "rejected", "settled": "settled",
            "expired": "expired"}
STATUS_LABELS = {"requested": ("已提交，待处理", "Requested, waiting"), "in_review": ("审批中", "Being reviewed"),
                 "approved": ("已批准", "Approved"), "rejected": ("未获批准", "Not approved"),
                 "settled": ("已批准，已和解结清", "Approved and settled"),
                 "expired": ("已批准，和解已过期", "Approved; the settlement offer expired")}
PLAN_LABELS = {"holiday": ("延期还款", "Payment holiday"), "reage": ("再账龄（逾期款移至期末）", "Re-ageing"),
               "restructure": ("重组（延长期限）", "Restructure (a longer term)"),
               "settlement": ("和解结清（减免）", "Settlement (a discounted payoff)")}


def request_hardship(session: Session, *, loan_id: int, user_id: int, kind: str, reason: str) -> HardshipRequest:
    if kind not in HARDSHIP_KINDS:
        raise InvalidInput("kind", zh="请选择申请类型", en="Choose what you ask for")
    text = reason.strip()
    if not 2 <= len(text) <= 1000:
        raise InvalidInput("reason", zh="请简要说明原因（2–1000 字）", en="Say why (2–1000 characters)")
    row = HardshipRequest(loan_id=loan_id, user_id=user_id, kind=kind, reason=text)
    session.add(row)
    session.flush()
    return row


def hardship_requests(session: Session, loan_id: int) -> list[HardshipRequest]:
    return list(session.scalars(select(HardshipRequest).where(HardshipRequest.loan_id == loan_id)
                                .order_by(HardshipRequest.id.desc())))


def open_requests(session: Session, loan_id: int) -> list[HardshipRequest]:
    """The loan's requests an arrangement may still be proposed for (the console's propose form)."""
    return [r for r in hardship_requests(session, loan_id) if r.status in OPEN]


def waiting_requests(session: Session, *, limit: int = 100) -> list[HardshipRequest]:
    """Shoppers' requests no arrangement answers yet, oldest first: the hardship desk's to-do list."""
    return list(session.scalars(select(HardshipRequest).where(HardshipRequest.status.in_(OPEN))
                                .order_by(HardshipRequest.id).limit(limit)))


def follow_arrangement(session: Session, arr: HardshipArrangement) -> None:
    """Servicing's `on_arrangement` port: the request takes its arrangement's step. Proposing for a request
    of another loan, or one already being reviewed or approved, is refused."""
    req = session.get(HardshipRequest, arr.request_id, with_for_update=True)
    if req is None or req.loan_id != arr.loan_id:
        raise InvalidInput("request_id", zh=f"第 {arr.request_id} 号纾困申请不属于该贷款",
                           en=f"Hardship request {arr.request_id} is not this loan's")
    if arr.status == "proposed" and req.status not in OPEN:
        raise Conflict(f"hardship request {req.id} is {req.status}",
                       zh=f"第 {req.id} 号纾困申请已在审批中或已获批准", en=f"Hardship request {req.id} is already "
                       "being reviewed or approved")
    req.status = _FOLLOWS.get(arr.status, req.status)
    session.flush()


@dataclass(frozen=True, slots=True)
class RequestOutcome:
    """A request as the shopper and the collector see it: its status and the arrangement that answered it."""

    request: HardshipRequest
    status: tuple[str, str]  # zh, en
    plan: tuple[str, str] | None  # the arrangement's kind, zh and en
    arrangement: HardshipArrangement | None  # servicing's row (read only): apr, settlement_fen, valid_until …

    def label(self, lang: str) -> str:
        return self.status[0 if lang == "zh" else 1]

    def plan_label(self, lang: str) -> str:
        return self.plan[0 if lang == "zh" else 1] if self.plan else ""


def outcomes(session: Session, loan_id: int) -> list[RequestOutcome]:
    """The loan's requests, newest first, each with the latest arrangement proposed for it."""
    answered: dict[int, HardshipArrangement] = {}
    for made in sorted(arrangements(session, loan_id=loan_id), key=lambda a: a.id):
        if made.request_id is not None:
            answered[made.request_id] = made  # the latest wins
    shown = []
    for req in hardship_requests(session, loan_id):
        arr = answered.get(req.id)
        shown.append(RequestOutcome(req, STATUS_LABELS.get(req.status, (req.status, req.status)),
                                    PLAN_LABELS.get(arr.kind) if arr is not None else None, arr))
    return shown
