"""A pricier exchange re-priced as a new plan (换货重新定价): instead of paying the difference at the cashier,
the shopper finances it on the same loan — if they prefer and risk allows.

1. The desk decides the exchange with `settle="new_plan"` (and optionally a longer term among the
   product's terms). Risk allows it when the loan is current (nothing past due, no penalty) and the new
   principal — the principal outstanding plus the difference — is within the credit limit of the shopper's
   risk decision (the limit the application was approved with). Otherwise it is refused with the reason in
   Chinese and English, and the cashier remains the way to pay.
2. Nothing changes yet: the new schedule (the rest of the loan re-amortized with the difference, same
   rates, the current period restarting today) and its APR are computed, and a fresh contract — an
   addendum drawn up by the same machinery as the e-contract (fenqi.origination.addendum) — is stored. The
   shopper sees it on their case page (PDF, schedule, APR) and is told by SMS.
3. The shopper signs it (by the document's hash, the same business day). Then, in one transaction: the loan
   lends the difference and is re-amortized as disclosed (fenqi.servicing.reprice: Dr principal_receivable
   / Cr merchant_payable), the funder pays the difference to the merchant (fenqi.funding.disbursement:
   Dr merchant_payable / Cr funder_payable), the new phone is bound to the loan and the old one comes back,
   and the case completes.
4. Until it is signed, the desk or the shopper may abandon the re-price: nothing was changed, and the case
   is back to "inspected" to be decided again (for instance with the cashier).

The case keeps the offer in its steps (reprice_status offered | signed | abandoned, reprice_contract,
reprice_imei, reprice_term, reprice_digest); a signature on an offer that no longer matches the loan (a
payment came in, the business date moved) is refused: abandon it and offer again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from fenqi.aftersales.cases import check_access, complete, event, get_case, notify_shopper
from fenqi.aftersales.errors import CaseState, RepriceNotAllowed
from fenqi.aftersales.exchanges import difference_for, start_exchange, swap_phone
from fenqi.aftersales.models import AftersalesCase, CaseStatus
from fenqi.catalog.errors import DeviceNotAvailable
from fenqi.catalog.service import get_device, get_sku
from fenqi.catalog.stock import sku_of_device
from fenqi.funding.disbursement import disburse_difference
from fenqi.identity.deps import Principal
from fenqi.identity.roles import SHOPPER
from fenqi.identity.service import audit
from fenqi.kit.clock import business_date
from fenqi.kit.errors import DomainError, Forbidden, InvalidInput
from fenqi.kit.money import fmt_percent, fmt_rate, fmt_yuan, from_fen
from fenqi.origination.addendum import AddendumRow, draw_up, get_addendum, sign_addendum
from fenqi.origination.service import get_application
from fenqi.pricing.service import get_product
from fenqi.servicing.reprice import Repriced, not_current, preview, reprice, term_choices
from fenqi.servicing.service import get_loan


def _digest(r: Repriced) -> str:
    text = f"{r.loan_id}|{r.outstanding_fen}|{r.extra_fen}|" + ";".join(
        f"{x.period},{x.due_date},{x.principal},{x.interest},{x.fee}" for x in r.rows)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def refusal(session: Session, case: AftersalesCase, difference_fen: int, term: int | None) -> tuple[str, str] | None:
    """Why risk does not allow financing the difference (zh, en), or None."""
    loan = get_loan(session, case.loan_id)
    why = not_current(loan)
    if why is not None:
        return why
    app = get_application(session, case.application_id)
    wanted = loan.principal_outstanding_fen + difference_fen
    if wanted > app.credit_limit_fen:
        return (f"新的分期本金{fmt_yuan(from_fen(wanted))}元超过授信额度{fmt_yuan(from_fen(app.credit_limit_fen))}元",
                f"the new principal of {fmt_yuan(from_fen(wanted))} yuan is above the credit limit of "
                f"{fmt_yuan(from_fen(app.credit_limit_fen))} yuan")
    if term is not None:
        choices = term_choices(session, loan, list(get_product(session, app.product_code).terms))
        if term not in choices:
            listed = "、".join(str(t) for t in choices)
            return f"期数须为{listed}期之一", f"the term must be one of {', '.join(str(t) for t in choices)} periods"
    return None


def start_reprice(session: Session, case: AftersalesCase, *, new_imei: str | None, term: int | None,
                  actor: int | None) -> None:
    """An exchange decided with settle="new_plan": offered as a new plan when the new phone costs more,
    otherwise processed like any exchange (nothing to finance)."""
    if not new_imei:
        raise InvalidInput("new_imei", zh="请扫描换给顾客的新手机的 IMEI",
                           en="Scan the IMEI of the phone handed out instead")
    difference = difference_for(session, case, new_imei)
    if difference <= 0:
        start_exchange(session, case, new_imei=new_imei, settle="cashier", actor=actor)
        return
    offer(session, case, new_imei=new_imei, difference_fen=difference, term=term, actor=actor)


def offer(session: Session, case: AftersalesCase, *, new_imei: str, difference_fen: int, term: int | None,
          actor: int | None) -> None:
    """Step 2 of the module: compute the new plan and draw up its contract; nothing else changes."""
    why = refusal(session, case, difference_fen, term)
    if why is not None:
        raise RepriceNotAllowed(why_zh=why[0], why_en=why[1])
    device = get_device(session, new_imei)
    if device.status != "in_stock":
        raise DeviceNotAvailable(device.imei, status=device.status)
    loan = get_loan(session, case.loan_id)
    plan = preview(session, loan.id, extra_fen=difference_fen, term=term)
    new_sku, old_sku = sku_of_device(session, new_imei), get_sku(session, case.sku_code)
    contract = draw_up(
        session, case.application_id, case_id=case.id, old_goods=old_sku.name_zh, goods=new_sku.name_zh,
        imei=device.imei, outstanding_fen=plan.outstanding_fen, difference_fen=difference_fen, method=loan.method,
        annual_rate=loan.annual_rate, fee_rate=loan.fee_rate, apr=plan.apr,
        rows=[AddendumRow(r.period, r.due_date, r.principal, r.interest, r.fee) for r in plan.rows])
    case.difference_fen = difference_fen
    case.steps = {**case.steps, "reprice_status": "offered", "reprice_contract": str(contract.id),
                  "reprice_imei": device.imei, "reprice_term": str(plan.term), "reprice_digest": _digest(plan)}
    event(session, f"case:{case.id}", "reprice_offered",
          f"差价{from_fen(difference_fen):,.2f}元改为重新分期：新本金{from_fen(plan.principal_fen):,.2f}元，"
          f"{plan.term}期，年化利率{fmt_percent(plan.apr)}，待顾客签署新合同",
          f"The {from_fen(difference_fen):,.2f} yuan difference re-priced as a new plan: "
          f"{from_fen(plan.principal_fen):,.2f} "
          f"yuan over {plan.term} periods, APR {fmt_percent(plan.apr)}; waiting for the shopper to sign", actor)
    notify_shopper(session, case.application_id, "aftersales.reprice",
                   f"【分期】换货差价{from_fen(difference_fen):,.2f}元可重新分期，年化利率{fmt_percent(plan.apr)}，"
                   "请在售后单中查看并签署新合同")


def _offered(case: AftersalesCase) -> None:
    if case.status != CaseStatus.PROCESSING or case.steps.get("reprice_status") != "offered":
        raise CaseState(case.steps.get("reprice_status") or case.status)


def sign(session: Session, principal: Principal, case_id: int, contract_sha256: str) -> AftersalesCase:
    """Step 3 of the module: the shopper signs; the loan, the funder, the merchant and the phones move."""
    case = get_case(session, case_id, principal, lock=True)
    if case.steps.get("reprice_status") == "signed":
        return case  # a retried request
    if principal.role != SHOPPER:
        raise Forbidden()
    _offered(case)
    term = int(case.steps["reprice_term"])
    loan = get_loan(session, case.loan_id)
    why = not_current(loan)
    if why is not None:
        raise RepriceNotAllowed(why_zh=why[0], why_en=why[1])
    plan = preview(session, loan.id, extra_fen=case.difference_fen, term=term)
    contract_id = int(case.steps["reprice_contract"])
    if _digest(plan) != case.steps.get("reprice_digest"):
        raise RepriceNotAllowed(why_zh="合同内容已过期（贷款已变动或已过营业日），请门店重新生成",
                                why_en="the offer is out of date (the loan changed or the day moved): ask the "
                                       "store for a new one")
    contract = sign_addendum(session, contract_id, case.application_id, contract_sha256)
    ref = f"aftersales:{case.id}:reprice"
    new_imei = case.steps["reprice_imei"]
    price_delta = int(sku_of_device(session, new_imei).price_fen) - loan.price_fen
    done = reprice(session, loan.id, extra_fen=case.difference_fen, term=term, price_delta_fen=price_delta, ref=ref)
    disburse_difference(session, loan_id=loan.id, amount_fen=case.difference_fen, ref=ref,
                        on=business_date(session))
    swap_phone(session, case, new_imei, principal.user_id)
    case.steps = {**case.steps, "reprice_status": "signed"}
    audit(session, actor_user_id=principal.user_id, action="aftersales.reprice.signed", subject=f"case:{case.id}",
          detail=f"loan:{loan.id} +{case.difference_fen} fen contract:{contract.sha256[:16]}")
    complete(session, case, f"新合同已签署，差价{from_fen(case.difference_fen):,.2f}元已重新分期，换货完成"
                            f"（年化利率{fmt_percent(done.apr)}）",
             f"New contract signed: the {from_fen(case.difference_fen):,.2f} yuan difference is financed, exchange "
             f"completed (APR {fmt_percent(done.apr)})")
    return case


def abandon(session: Session, principal: Principal, case_id: int) -> AftersalesCase:
    """Step 4 of the module: drop an unsigned re-price; the case can be decided again."""
    case = get_case(session, case_id, principal, lock=True)
    if principal.role not in (SHOPPER, "clerk", "merchant_owner", "admin"):
        raise Forbidden()
    _offered(case)
    case.steps = {**case.steps, "reprice_status": "abandoned"}
    case.status, case.outcome, case.difference_fen = CaseStatus.INSPECTED, None, 0
    event(session, f"case:{case.id}", "reprice_abandoned", "未签署新合同，重新分期已取消，可改为收银台补差价",
          "The new plan was not signed and is dropped; the difference can be paid at the cashier",
          principal.user_id)
    return case


def reprice_json(session: Session, case: AftersalesCase) -> dict[str, Any] | None:
    """The offer as the shopper is shown it: the new schedule, its APR and the contract to sign."""
    status = case.steps.get("reprice_status")
    if status is None:
        return None
    contract = get_addendum(session, int(case.steps["reprice_contract"]), case.application_id)
    loan = get_loan(session, case.loan_id)
    body: dict[str, Any] = {
        "status": status, "contract_sha256": contract.sha256, "term": int(case.steps["reprice_term"]),
        "contract_url": f"/api/v1/aftersales/cases/{case.id}/reprice/contract.pdf", "new_imei":
            case.steps["reprice_imei"], "difference": fmt_yuan(from_fen(case.difference_fen)),
        "apr": None, "principal": None, "installments": []}
    if status == "offered":
        try:
            plan = preview(session, loan.id, extra_fen=case.difference_fen, term=body["term"])
        except DomainError:  # the loan moved on (paid off, cancelled): the offer can only be abandoned
            return body
        rows = plan.rows
        body["apr"], body["principal"] = fmt_rate(plan.apr), fmt_yuan(from_fen(plan.principal_fen))
    else:
        return body
    body["installments"] = [{"period": r.period, "due_date": r.due_date.isoformat(),
                             "total": fmt_yuan(from_fen(r.total)), "principal": fmt_yuan(from_fen(r.principal)),
                             "interest": fmt_yuan(from_fen(r.interest)), "fee": fmt_yuan(from_fen(r.fee))}
                            for r in rows]
    return body


def contract_pdf(session: Session, principal: Principal, case_id: int) -> bytes:
    case = get_case(session, case_id, principal)
    check_access(principal, case)
    if "reprice_contract" not in case.steps:
        raise CaseState(case.status)
    return bytes(get_addendum(session, int(case.steps["reprice_contract"]), case.application_id).pdf)
