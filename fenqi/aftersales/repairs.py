"""Repairs (维修): one ticket per case.

received → diagnosing → repairing → ready → collected; a repair that did not fix the fault goes from
ready back to repairing ("failed", counted); after the policy's number of failed repairs of the same fault
an exchange is offered (the case's proposal then allows it) and the ticket is → escalated when chosen.
The warranty (free or paid) is decided by the part and the sale date; a loaner phone may be lent by IMEI;
the deadline is the policy's repair days from receipt, and a ticket past it unfinished is flagged.
Installments continue during a repair (the shopper is told so). Each state change is sent to the shopper
through the outbox.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.aftersales.cases import (
    complete,
    event,
    events,
    failed_repairs,
    get_case,
    notify_shopper,
    of_book,
    proposal_for,
    require_desk,
)
from fenqi.aftersales.errors import BadTransition, CaseNotFound
from fenqi.aftersales.models import AftersalesCase, CaseStatus, RepairTicket
from fenqi.aftersales.policies import policy_of_case
from fenqi.aftersales.policy import Policy
from fenqi.catalog.stock import set_device_status
from fenqi.identity.deps import Principal
from fenqi.kit.clock import business_date

OPEN = ("received", "diagnosing", "repairing")  # the phone is not back with the shopper yet
STATES = ("received", "diagnosing", "repairing", "ready", "collected", "escalated")
MOVES: dict[str, tuple[str, ...]] = {
    "received": ("diagnosing",),
    "diagnosing": ("repairing", "ready"),
    "repairing": ("ready",),
    "ready": ("collected", "failed"),  # failed: the fault is back → repairing again
    "collected": (),
    "escalated": (),
}
NAMES = {"received": ("已接收", "received"), "diagnosing": ("检测中", "diagnosing"),
         "repairing": ("维修中", "repairing"), "ready": ("已修好，待取机", "ready for collection"),
         "collected": ("已取机", "collected"), "escalated": ("转为换货", "turned into an exchange"),
         "failed": ("未修好，重新维修", "not fixed, repaired again")}


def open_ticket(session: Session, case: AftersalesCase, *, free: bool, actor: int | None) -> RepairTicket:
    existing = session.scalar(select(RepairTicket).where(RepairTicket.case_id == case.id))
    if existing is not None:
        return existing
    policy = policy_of_case(session, case.policy_id)
    today = business_date(session)
    ticket = RepairTicket(case_id=case.id, imei=case.imei, part=case.part, fault=case.description or "-",
                          free=free, status="received", received_on=today,
                          deadline=today + timedelta(days=policy.repair_deadline_days))
    session.add(ticket)
    session.flush()
    event(session, f"case:{case.id}", "repair_received",
          f"维修单{ticket.id}已接收（{'保修期内免费' if free else '付费维修'}），"
          f"最迟{ticket.deadline}修好；维修期间月供照常",
          f"Repair ticket {ticket.id} received ({'free under warranty' if free else 'paid repair'}), due by "
          f"{ticket.deadline}; installments continue during the repair", actor)
    notify_shopper(session, case.application_id, "aftersales.repair",
                   f"【分期】维修单{ticket.id}已接收，预计{ticket.deadline}前修好。维修期间月供照常，请按时还款。")
    return ticket


def get_ticket(session: Session, ticket_id: int, principal: Principal | None = None) -> RepairTicket:
    ticket = session.scalar(select(RepairTicket).where(RepairTicket.id == ticket_id).with_for_update())
    if ticket is None:
        raise CaseNotFound(f"repair {ticket_id}")
    if principal is not None:
        get_case(session, ticket.case_id, principal)
    return ticket


def ticket_for_case(session: Session, case_id: int) -> RepairTicket | None:
    return session.scalar(select(RepairTicket).where(RepairTicket.case_id == case_id))


def move(session: Session, principal: Principal, ticket_id: int, target: str, *, note: str = "") -> RepairTicket:
    """A state change of the ticket at the desk ("failed": the repaired phone still has the fault)."""
    ticket = get_ticket(session, ticket_id)
    case = get_case(session, ticket.case_id, lock=True)
    require_desk(principal, case)
    if target == ticket.status:
        return ticket  # a retried request
    if target not in MOVES.get(ticket.status, ()):
        raise BadTransition(current=ticket.status, target=target)
    if target == "failed":
        ticket.failed_repairs += 1
        ticket.status = "repairing"
    else:
        ticket.status = target
    if note:
        ticket.diagnosis = (ticket.diagnosis + "\n" + note).strip()[:4000]
    zh, en = NAMES[target]
    event(session, f"case:{case.id}", f"repair_{target}", f"维修单{ticket.id}：{zh}", f"Repair {ticket.id}: {en}",
          principal.user_id)
    notify_shopper(session, case.application_id, "aftersales.repair", f"【分期】维修单{ticket.id}：{zh}")
    if target == "collected":
        _return_loaner(session, ticket)
        complete(session, case, "维修完成，已取机", "Repaired and collected")
    elif target == "failed":
        policy = policy_of_case(session, case.policy_id)
        if failed_repairs(session, case.loan_id) >= policy.failed_repairs_for_exchange:
            event(session, f"case:{case.id}", "exchange_offered",
                  f"同一故障已维修{ticket.failed_repairs}次仍未修复，可为您换货",
                  f"{ticket.failed_repairs} repairs did not fix the fault: an exchange is offered")
            notify_shopper(session, case.application_id, "aftersales.exchange_offered",
                           f"【分期】维修单{ticket.id}多次维修未修好，您可以选择换货")
    session.flush()
    return ticket


def escalate_to_exchange(session: Session, principal: Principal, ticket_id: int) -> AftersalesCase:
    """Close the ticket as escalated and open the case again for inspection: the proposal (now counting
    the failed repairs) allows an exchange, which the desk then decides like any other."""
    ticket = get_ticket(session, ticket_id)
    case = get_case(session, ticket.case_id, lock=True)
    require_desk(principal, case)
    if ticket.status == "escalated":
        return case
    policy = policy_of_case(session, case.policy_id)
    if failed_repairs(session, case.loan_id) < policy.failed_repairs_for_exchange:
        raise BadTransition(current=ticket.status, target="escalated")
    ticket.status = "escalated"
    _return_loaner(session, ticket)
    case.status, case.outcome = CaseStatus.INSPECTED, None
    case.requested = "exchange"
    session.flush()
    case.proposal = proposal_for(session, case).to_json()
    event(session, f"case:{case.id}", "repair_escalated", "维修转为换货", "The repair becomes an exchange",
          principal.user_id)
    session.flush()
    return case


def lend_loaner(session: Session, principal: Principal, ticket_id: int, imei: str) -> RepairTicket:
    """Lend a phone from the shelf while this one is repaired."""
    ticket = get_ticket(session, ticket_id)
    case = get_case(session, ticket.case_id)
    require_desk(principal, case)
    if ticket.loaner_imei:
        return ticket
    device = set_device_status(session, imei=imei, status="loaned")
    ticket.loaner_imei = device.imei
    event(session, f"case:{case.id}", "loaner_lent", "已借出备用机", "A loaner phone was lent", principal.user_id)
    session.flush()
    return ticket


def _return_loaner(session: Session, ticket: RepairTicket) -> None:
    if ticket.loaner_imei:
        set_device_status(session, imei=ticket.loaner_imei, status="in_stock")


def flag_breaches(session: Session, today: date | None = None) -> int:
    """Mark tickets past their deadline and not yet ready (run daily); returns how many were newly flagged."""
    today = today or business_date(session)
    late = session.scalars(select(RepairTicket).where(
        RepairTicket.deadline < today, RepairTicket.breached.is_(False),
        RepairTicket.status.in_(OPEN)))
    count = 0
    for ticket in late:
        ticket.breached = True
        count += 1
        event(session, f"case:{ticket.case_id}", "repair_breached",
              f"维修单{ticket.id}已超过承诺期限（{ticket.deadline}）",
              f"Repair {ticket.id} is past its promised date ({ticket.deadline})")
    session.flush()
    return count


def loaner_due(ticket: RepairTicket, policy: Policy, today: date) -> bool:
    """三包: a repair that takes longer than the policy's loaner days entitles the shopper to a loaner phone
    (the desk may lend one earlier as a courtesy)."""
    return (ticket.status in OPEN and not ticket.loaner_imei
            and (today - ticket.received_on).days >= policy.loaner_after_days)


def offer_loaners(session: Session, today: date | None = None) -> int:
    """Run daily: tell the shopper (and the desk, on the case) when a repair has reached the loaner days
    without a loaner phone. Once per ticket (the event is the record)."""
    today = today or business_date(session)
    count = 0
    for ticket in session.scalars(select(RepairTicket).where(RepairTicket.status.in_(OPEN),
                                                             RepairTicket.loaner_imei.is_(None))):
        case = session.get(AftersalesCase, ticket.case_id)
        if case is None or not loaner_due(ticket, policy_of_case(session, case.policy_id), today):
            continue
        subject = f"case:{case.id}"
        if any(e.kind == "loaner_offered" for e in events(session, subject)):
            continue
        days = (today - ticket.received_on).days
        event(session, subject, "loaner_offered", f"维修已{days}天，可到门店领取备用机",
              f"The repair has taken {days} days: a loaner phone is available at the store")
        notify_shopper(session, case.application_id, "aftersales.loaner",
                       f"【分期】维修单{ticket.id}维修时间较长，您可到门店免费领取备用机")
        count += 1
    session.flush()
    return count


def day_step(session: Session, day: date) -> None:
    """Close-of-business step (registered by fenqi.aftersales.hooks.install): when `day` closes, repairs
    still open past their deadline are flagged and those past the loaner days offer a loaner phone."""
    tomorrow = day + timedelta(days=1)
    flag_breaches(session, tomorrow)
    offer_loaners(session, tomorrow)


def open_tickets(session: Session, training: bool = False) -> list[RepairTicket]:
    """Tickets still in the workshop (received, diagnosing, repairing), the nearest deadline first: of the
    training merchants' practice (`training`) or of the real business."""
    return list(session.scalars(select(RepairTicket).join(AftersalesCase, AftersalesCase.id == RepairTicket.case_id)
                                .where(RepairTicket.status.in_(("received", "diagnosing", "repairing")),
                                       of_book(AftersalesCase.merchant_id, training))
                                .order_by(RepairTicket.deadline)))


def is_breached(ticket: RepairTicket, today: Any) -> bool:
    return ticket.breached or (ticket.status in OPEN and ticket.deadline < today)


def ticket_json(ticket: RepairTicket, today: Any, policy: Policy | None = None) -> dict[str, Any]:
    return {"id": ticket.id, "case_id": ticket.case_id, "imei": ticket.imei, "part": ticket.part,
            "loaner_offered": loaner_due(ticket, policy, today) if policy else False,
            "fault": ticket.fault, "free": ticket.free, "status": ticket.status,
            "received_on": ticket.received_on.isoformat(), "deadline": ticket.deadline.isoformat(),
            "breached": is_breached(ticket, today), "failed_repairs": ticket.failed_repairs,
            "loaner_imei": ticket.loaner_imei, "diagnosis": ticket.diagnosis}
