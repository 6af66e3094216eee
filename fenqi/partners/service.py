"""The partner registry — the port funding's routing asks whether a funder may be routed to.

A partner may be routed to only while it is contracted, holds a licence for its role that is valid
that day (a funder: a financial licence, 金融许可证; a payment or installment platform: a payment
licence, 支付业务许可证) and has a contract in force. Funders not entered in the registry are routed as
before (the registry is opt-in per funder); once entered, these checks apply. Reminders are raised
60, 30 and 7 days before a licence or a contract expires, by a close-of-business day step.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.kit.clock import business_date
from fenqi.partners.errors import InvalidPartner, PartnerNotFound
from fenqi.partners.models import ExpiryReminder, Licence, Partner, PartnerContract
from fenqi.partners.schemas import (
    ContractIn,
    ContractOut,
    LicenceIn,
    LicenceOut,
    PartnerIn,
    PartnerOut,
    ReminderOut,
)

LICENCE_FOR_ROLE = {"funder": "financial", "payment_platform": "payment", "installment_platform": "payment"}
LICENCE_NAMES = {"financial": ("金融许可证", "financial licence"), "payment": ("支付业务许可证", "payment licence")}
REMIND_DAYS = (7, 30, 60)


def create_partner(session: Session, data: PartnerIn) -> PartnerOut:
    if session.scalar(select(Partner.id).where(Partner.code == data.code)) is not None:
        raise InvalidPartner(f"编号 {data.code} 已存在 / the code is taken")
    if data.funder_code is not None and data.role != "funder":
        raise InvalidPartner("只有资金方可关联路由编号 / only a funder has a routing code")
    if data.funder_code is not None and session.scalar(
            select(Partner.id).where(Partner.funder_code == data.funder_code)) is not None:
        raise InvalidPartner(f"资金方 {data.funder_code} 已登记 / the funder is registered")
    if data.channel is not None and data.role == "funder":
        raise InvalidPartner("资金方没有支付渠道 / a funder has no payment channel")
    row = Partner(code=data.code, name=data.name, role=data.role, status=data.status, funder_code=data.funder_code,
                  channel=data.channel, contacts=[], note=data.note)
    session.add(row)
    session.flush()
    return partner_out(session, row, None)


def _get(session: Session, code: str) -> Partner:
    row = session.scalar(select(Partner).where(Partner.code == code))
    if row is None:
        raise PartnerNotFound(code)
    return row


def add_licence(session: Session, code: str, data: LicenceIn) -> PartnerOut:
    partner = _get(session, code)
    if data.expires_on < data.valid_from:
        raise InvalidPartner("到期日早于生效日 / expires before it is valid")
    session.add(Licence(partner_id=partner.id, kind=data.kind, number=data.number, scope=data.scope,
                        valid_from=data.valid_from, expires_on=data.expires_on))
    session.flush()
    return partner_out(session, partner, None)


def add_contract(session: Session, code: str, data: ContractIn) -> PartnerOut:
    partner = _get(session, code)
    if data.ends_on < data.starts_on:
        raise InvalidPartner("合同结束日早于开始日 / the contract ends before it starts")
    session.add(PartnerContract(partner_id=partner.id, reference=data.reference, starts_on=data.starts_on,
                                ends_on=data.ends_on, terms=data.terms))
    session.flush()
    return partner_out(session, partner, None)


def set_status(session: Session, code: str, status: str) -> PartnerOut:
    if status not in ("candidate", "contracted", "ended"):
        raise InvalidPartner(status)
    partner = _get(session, code)
    partner.status = status
    session.flush()
    return partner_out(session, partner, None)


def standing(session: Session, partner: Partner, on: date) -> list[tuple[str, str]]:
    """Why the partner may not be routed to on `on` (empty: it may)."""
    reasons: list[tuple[str, str]] = []
    if partner.status != "contracted":
        reasons.append(("尚未签约或已终止合作", "not contracted"))
    kind = LICENCE_FOR_ROLE[partner.role]
    licences = session.scalars(select(Licence).where(Licence.partner_id == partner.id, Licence.kind == kind)).all()
    if not any(lic.valid_from <= on <= lic.expires_on for lic in licences):
        zh, en = LICENCE_NAMES[kind]
        reasons.append((f"无有效{zh}", f"no valid {en}"))
    contracts = session.scalars(select(PartnerContract).where(PartnerContract.partner_id == partner.id)).all()
    if not any(c.starts_on <= on <= c.ends_on for c in contracts):
        reasons.append(("无有效合同", "no contract in force"))
    return reasons


def funder_veto(session: Session, codes: list[str], on: date) -> dict[str, str]:
    """Funding's routing check: registered funders without a licence or contract in force."""
    rows = session.scalars(select(Partner).where(Partner.funder_code.in_(codes))).all()
    refused = {}
    for partner in rows:
        reasons = standing(session, partner, on)
        if reasons and partner.funder_code is not None:
            refused[partner.funder_code] = "；".join(zh for zh, _ in reasons)
    return refused


def partner_out(session: Session, p: Partner, on: date | None) -> PartnerOut:
    on = on or business_date(session)
    reasons = standing(session, p, on)
    licences = session.scalars(select(Licence).where(Licence.partner_id == p.id).order_by(Licence.expires_on)).all()
    contracts = session.scalars(
        select(PartnerContract).where(PartnerContract.partner_id == p.id).order_by(PartnerContract.ends_on)).all()
    reminders = session.scalars(select(ExpiryReminder).where(ExpiryReminder.partner_id == p.id)
                                .order_by(ExpiryReminder.raised_on.desc(), ExpiryReminder.id.desc())).all()
    return PartnerOut(
        code=p.code, name=p.name, role=p.role, status=p.status, funder_code=p.funder_code, channel=p.channel,
        note=p.note,
        licences=[LicenceOut(kind=x.kind, number=x.number, scope=x.scope, valid_from=x.valid_from,
                             expires_on=x.expires_on, valid=x.valid_from <= on <= x.expires_on) for x in licences],
        contracts=[ContractOut(reference=c.reference, starts_on=c.starts_on, ends_on=c.ends_on, terms=c.terms,
                               in_force=c.starts_on <= on <= c.ends_on) for c in contracts],
        routable=not reasons, reasons=[zh for zh, _ in reasons], reasons_en=[en for _, en in reasons],
        reminders=[ReminderOut(item=r.item, days_before=r.days_before, due_on=r.due_on, raised_on=r.raised_on)
                   for r in reminders],
    )


def list_partners(session: Session, on: date | None = None) -> list[PartnerOut]:
    return [partner_out(session, p, on) for p in session.scalars(select(Partner).order_by(Partner.role, Partner.code))]


def get_partner(session: Session, code: str) -> PartnerOut:
    return partner_out(session, _get(session, code), None)


def raise_expiry_reminders(session: Session, day: date) -> int:
    """Close-of-business day step: a reminder for every licence and contract whose expiry is within
    60, 30 or 7 days — the nearest threshold crossed, once each (a skipped day still raises it)."""
    items: list[tuple[str, int, int, date]] = [
        ("licence", lic.id, lic.partner_id, lic.expires_on) for lic in session.scalars(select(Licence))
    ] + [("contract", c.id, c.partner_id, c.ends_on) for c in session.scalars(select(PartnerContract))]
    raised = 0
    for item, item_id, partner_id, expires in items:
        left = (expires - day).days
        if not 0 <= left <= max(REMIND_DAYS):
            continue
        threshold = min(t for t in REMIND_DAYS if left <= t)
        exists = session.scalar(select(ExpiryReminder.id).where(
            ExpiryReminder.item == item, ExpiryReminder.item_id == item_id, ExpiryReminder.days_before == threshold))
        if exists is None:
            session.add(ExpiryReminder(partner_id=partner_id, item=item, item_id=item_id, days_before=threshold,
                                       due_on=expires, raised_on=day))
            raised += 1
    session.flush()
    return raised
