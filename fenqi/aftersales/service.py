"""After-sales cases: opened by the shopper (from a loan) or at the store desk (by scanning the IMEI),
inspected with the policy's checklist, decided among the outcomes the policy allows, then processed
(fenqi.aftersales.returns, .exchanges, .reprice, .repairs). What the service and those steps both use (loading
a case, its events, the shopper's messages, the proposal) is in fenqi.aftersales.cases.

    case = open_case(session, who, loan_id=42, requested="return", reason="no_reason")
    inspect(session, who, case.id, {"seal": True, "charger": False, ...})
    decide(session, who, case.id, "return")      # refused unless the proposal allows it

Other domains are used only through their services. Services never commit.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.aftersales.cases import (
    DESK_ROLES,
    event,
    events,
    get_case,
    notify_shopper,
    of_book,
    proposal_for,
    require_desk,
)
from fenqi.aftersales.errors import (
    CaseClosed,
    CaseState,
    InspectionIncomplete,
    NotSoldByMerchant,
    OpenCaseExists,
    OutcomeNotAllowed,
)
from fenqi.aftersales.exchanges import schedule_json, start_exchange
from fenqi.aftersales.models import AftersalesCase, CaseRefund, CaseStatus
from fenqi.aftersales.policies import policy_for, policy_of_case
from fenqi.aftersales.policy import OUTCOME_NAMES, OUTCOMES, PARTS, REASONS
from fenqi.aftersales.repairs import open_ticket
from fenqi.aftersales.reprice import reprice_json, start_reprice
from fenqi.aftersales.returns import process_return
from fenqi.catalog.service import get_device
from fenqi.identity.deps import Principal
from fenqi.identity.roles import MERCHANT_ROLES, SHOPPER
from fenqi.identity.service import audit
from fenqi.kit.clock import business_date
from fenqi.kit.db import utcnow
from fenqi.kit.errors import Forbidden, InvalidInput
from fenqi.kit.money import fmt_yuan, from_fen
from fenqi.origination.service import application_for_loan
from fenqi.servicing.service import get_loan

OPS_ROLES = ("finance", "risk_officer", "collector")


def outcome_counts(session: Session, training: bool = False) -> Counter[tuple[str, int, str | None]]:
    """Cases with an outcome, counted per (SKU code, store id, outcome): of the training merchants'
    practice (`training`) or of the real business."""
    counts: Counter[tuple[str, int, str | None]] = Counter()
    for sku, store, outcome in session.execute(select(AftersalesCase.sku_code, AftersalesCase.store_id,
                                                      AftersalesCase.outcome).where(
            AftersalesCase.outcome.is_not(None), of_book(AftersalesCase.merchant_id, training))):
        counts[(sku, store, outcome)] += 1
    return counts


def list_cases(session: Session, principal: Principal, *, status: str | None = None, loan_id: int | None = None,
               limit: int = 100, training: bool = False) -> list[AftersalesCase]:
    """A shopper's own cases, a merchant's (a training store's staff see their practice), or for operations
    the real cases — a training store's practice only when `training` asks for it."""
    query = select(AftersalesCase)
    if principal.role == SHOPPER:
        query = query.where(AftersalesCase.shopper_user_id == principal.user_id)
    elif principal.role in MERCHANT_ROLES:
        query = query.where(AftersalesCase.merchant_id == principal.merchant_id)
    else:
        query = query.where(of_book(AftersalesCase.merchant_id, training))
    if status == "open":
        query = query.where(AftersalesCase.status.not_in(CaseStatus.CLOSED))
    elif status:
        query = query.where(AftersalesCase.status == status)
    if loan_id is not None:
        query = query.where(AftersalesCase.loan_id == loan_id)
    return list(session.scalars(query.order_by(AftersalesCase.id.desc()).limit(min(max(limit, 1), 500))))


# --- opening ----------------------------------------------------------------------------------------


def _scoped(principal: Principal, key: str | None) -> str | None:
    return f"{principal.user_id}:{key}"[:160] if key else None


def open_case(
    session: Session, principal: Principal, *, requested: str, reason: str, loan_id: int | None = None,
    imei: str | None = None, description: str = "", part: str = "handset", idempotency_key: str | None = None,
) -> AftersalesCase:
    """Open a case for a phone sold on installments: a shopper names one of their loans, the store desk
    scans the IMEI (it must be a phone this merchant sold). One open case per loan at a time."""
    if requested not in OUTCOMES:
        raise InvalidInput(f"requested: {' | '.join(OUTCOMES)}", zh="请选择退货、换货或维修",
                           en="Choose a return, an exchange or a repair")
    if reason not in REASONS:
        raise InvalidInput(f"reason: {' | '.join(REASONS)}", zh="请选择申请原因", en="Choose the reason")
    if part not in PARTS:
        raise InvalidInput(f"part: {' | '.join(PARTS)}", zh="请选择有问题的部件", en="Choose the part at fault")
    key = _scoped(principal, idempotency_key)
    if key:
        again = session.scalar(select(AftersalesCase).where(AftersalesCase.idempotency_key == key))
        if again is not None:
            return again
    if principal.role == SHOPPER:
        if loan_id is None:
            raise InvalidInput("loan_id", zh="请选择这台手机的分期", en="Choose the phone's installment plan")
        app = application_for_loan(session, loan_id)
        if app is None or app.shopper_user_id != principal.user_id:
            raise Forbidden()
    elif principal.role in (*DESK_ROLES, "admin"):
        if not imei:
            raise InvalidInput("imei", zh="请扫描手机的 IMEI", en="Scan the phone's IMEI")
        device = get_device(session, imei)
        app = application_for_loan(session, device.loan_id) if device.loan_id else None
        if app is None or (principal.role != "admin" and app.merchant_id != principal.merchant_id):
            raise NotSoldByMerchant(device.imei)
        if loan_id is not None and loan_id != app.loan_id:
            raise InvalidInput("loan_id does not match the IMEI", zh="扫描的手机不是这笔分期买的手机",
                               en="The phone scanned is not the one bought on this plan")
    else:
        raise Forbidden()
    assert app.loan_id is not None
    loan = get_loan(session, app.loan_id)
    busy = session.scalar(select(AftersalesCase.id).where(AftersalesCase.loan_id == loan.id,
                                                          AftersalesCase.status.not_in(CaseStatus.CLOSED)))
    if busy is not None:
        raise OpenCaseExists(f"#{busy}")
    imei_now = _current_imei(session, loan.id, app.device_imei or "")
    _, row = policy_for(session, app.merchant_id)
    case = AftersalesCase(
        idempotency_key=key, requested=requested, reason=reason, description=description[:500], part=part,
        loan_id=loan.id, application_id=app.id, merchant_id=app.merchant_id, store_id=app.store_id,
        shopper_user_id=app.shopper_user_id, imei=imei_now, sku_code=app.sku_code,
        online=app.channel == "online", opened_on=business_date(session),
        sale_date=app.handed_over_on or loan.start_date,  # the handover (交付) at the till, else the signing day
        status=CaseStatus.REQUESTED, policy_id=row.id if row else None, policy_version=row.version if row else 0,
        steps={},
    )
    session.add(case)
    session.flush()
    case.proposal = proposal_for(session, case).to_json()
    name_zh, name_en = OUTCOME_NAMES[requested]
    event(session, f"case:{case.id}", "opened", f"申请{name_zh}（售后单 {case.id}）",
          f"{name_en.capitalize()} requested (case {case.id})", principal.user_id)
    audit(session, actor_user_id=principal.user_id, action="aftersales.case.opened", subject=f"case:{case.id}",
          detail=f"loan:{loan.id}")  # the request and its reason are the case's own, named on its pages
    return case


def _current_imei(session: Session, loan_id: int, sold: str) -> str:
    """The phone now bound to the loan: the one sold, or the one handed out by the last exchange."""
    last = session.scalar(select(AftersalesCase.new_imei).where(
        AftersalesCase.loan_id == loan_id, AftersalesCase.new_imei.is_not(None),
        AftersalesCase.status == CaseStatus.COMPLETED).order_by(AftersalesCase.id.desc()).limit(1))
    return last or sold


# --- the proposal -------------------------------------------------------------------------------------


def _open(case: AftersalesCase) -> None:
    if case.status in CaseStatus.CLOSED:
        raise CaseClosed(case.status)


def inspect(session: Session, principal: Principal, case_id: int, results: dict[str, bool]) -> AftersalesCase:
    """The desk's checklist: every item of the policy answered passed (True) or failed (False)."""
    case = get_case(session, case_id, lock=True)
    require_desk(principal, case)
    _open(case)
    if case.status not in (CaseStatus.REQUESTED, CaseStatus.INSPECTED):
        raise CaseState(case.status)
    policy = policy_of_case(session, case.policy_id)
    codes = {i.code for i in policy.checklist}
    missing = sorted(codes - set(results))
    unknown = sorted(set(results) - codes)
    if missing or unknown:
        raise InspectionIncomplete(", ".join(missing + [f"?{u}" for u in unknown]))
    case.inspection = {code: bool(results[code]) for code in sorted(codes)}
    proposal = proposal_for(session, case)
    case.proposal = proposal.to_json()
    case.deduction_fen = proposal.deduction_fen
    case.status = CaseStatus.INSPECTED
    failed = [i.zh for i in policy.checklist if not case.inspection[i.code]]
    event(session, f"case:{case.id}", "inspected",
          "验机完成" + ("：" + "、".join(failed) + "未通过" if failed else "，全部通过"),
          "Inspected" + (f": {len(failed)} item(s) failed" if failed else ", all passed"), principal.user_id)
    return case


def decide(session: Session, principal: Principal, case_id: int, outcome: str, *, note: str = "",
           new_imei: str | None = None, settle: str | None = None, term: int | None = None) -> AftersalesCase:
    """Staff choose the outcome, only among those the policy allows (audited), and its workflow starts."""
    case = get_case(session, case_id, lock=True)
    require_desk(principal, case)
    _open(case)
    if case.status == CaseStatus.PROCESSING and case.outcome == outcome:
        return case  # a retried request
    if case.status != CaseStatus.INSPECTED:
        raise CaseState(case.status)
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome: {' | '.join(OUTCOMES)}", zh="请选择处理结果：退货、换货或维修",
                           en="Choose the outcome: a return, an exchange or a repair")
    proposal = proposal_for(session, case)
    if outcome not in proposal.allowed:
        zh, en = OUTCOME_NAMES[outcome]
        raise OutcomeNotAllowed(outcome_zh=zh, outcome_en=en, why_zh=proposal.explain("zh") or "无适用规则",
                                why_en=proposal.explain("en") or "no rule applies")
    case.outcome, case.decided_by, case.decided_at = outcome, principal.user_id, utcnow()
    case.note = note[:500]
    case.status = CaseStatus.PROCESSING
    case.proposal = proposal.to_json()
    audit(session, actor_user_id=principal.user_id, action="aftersales.case.decided", subject=f"case:{case.id}",
          detail=f"{outcome} (allowed: {', '.join(proposal.allowed)}; policy v{case.policy_version})")
    zh, en = OUTCOME_NAMES[outcome]
    event(session, f"case:{case.id}", "decided", f"处理方式：{zh}", f"Outcome: {en}", principal.user_id)
    if outcome == "return":
        process_return(session, case)
    elif outcome == "exchange":
        if settle == "new_plan":
            start_reprice(session, case, new_imei=new_imei, term=term, actor=principal.user_id)
        else:
            start_exchange(session, case, new_imei=new_imei, settle=settle, actor=principal.user_id)
    else:
        open_ticket(session, case, free=proposal.free_repair, actor=principal.user_id)
    return case


def cancel_case(session: Session, principal: Principal, case_id: int) -> AftersalesCase:
    """The shopper withdraws a case before anything was processed."""
    case = get_case(session, case_id, principal, lock=True)
    _open(case)
    if case.status not in (CaseStatus.REQUESTED, CaseStatus.INSPECTED):
        raise CaseState(case.status)
    case.status, case.closed_at = CaseStatus.CANCELLED, utcnow()
    event(session, f"case:{case.id}", "cancelled", "已撤销申请", "Withdrawn", principal.user_id)
    return case


def refuse_case(session: Session, principal: Principal, case_id: int, reason: str) -> AftersalesCase:
    """The desk closes a case it will not process (nothing the policy allows fits, or the phone does not
    qualify), with the reason the shopper is told (audited). The phone is free for a new case."""
    case = get_case(session, case_id, lock=True)
    require_desk(principal, case)
    if case.status == CaseStatus.REFUSED:
        return case  # a retried request
    _open(case)
    if case.status not in (CaseStatus.REQUESTED, CaseStatus.INSPECTED):
        raise CaseState(case.status)
    reason = " ".join(reason.split())[:200]
    if not reason:
        raise InvalidInput("reason is required", zh="请填写不予受理的原因", en="Give the reason for refusing")
    case.status, case.closed_at = CaseStatus.REFUSED, utcnow()
    case.note, case.decided_by, case.decided_at = reason, principal.user_id, utcnow()
    audit(session, actor_user_id=principal.user_id, action="aftersales.case.refused", subject=f"case:{case.id}",
          detail=reason)
    event(session, f"case:{case.id}", "refused", f"不予受理：{reason}", f"Refused: {reason}", principal.user_id)
    notify_shopper(session, case.application_id, "aftersales.refused",
                   f"【分期】售后单{case.id}不予受理：{reason}。如有疑问请联系门店，或重新提交售后申请。")
    return case


def case_json(session: Session, case: AftersalesCase, lang: str = "zh") -> dict[str, Any]:
    refunds = session.scalars(select(CaseRefund).where(CaseRefund.case_id == case.id).order_by(CaseRefund.id))
    zh = lang.startswith("zh")
    return {
        "id": case.id, "status": case.status, "requested": case.requested, "reason": case.reason,
        "outcome": case.outcome, "loan_id": case.loan_id, "imei": case.imei, "sku": case.sku_code,
        "part": case.part, "description": case.description, "sale_date": case.sale_date.isoformat(),
        "opened_on": case.opened_on.isoformat(), "day": (case.opened_on - case.sale_date).days,
        "policy_version": case.policy_version, "inspection": case.inspection, "proposal": case.proposal,
        "deductions": fmt_yuan(from_fen(case.deduction_fen)), "refund_total": fmt_yuan(from_fen(case.refund_fen)),
        "steps": case.steps, "new_imei": case.new_imei, "difference": fmt_yuan(from_fen(case.difference_fen)),
        "difference_order": case.difference_order,
        "refunds": [{"id": r.id, "out_trade_no": r.out_trade_no, "channel": r.channel, "purpose": r.purpose,
                     "amount": fmt_yuan(from_fen(r.amount_fen)), "status": r.status, "attempt": r.attempt,
                     "out_refund_no": r.out_refund_no or None, "last_error": r.last_error or None}
                    for r in refunds],
        "events": [{"at": e.created_at.isoformat(), "kind": e.kind, "text": e.zh if zh else e.en}
                   for e in events(session, f"case:{case.id}")],
        "closed_at": case.closed_at.isoformat() if case.closed_at else None, "note": case.note,
        "schedule": schedule_json(session, case),
        "reprice": reprice_json(session, case),
    }
