"""Training mode's service: the guided scenarios, each clerk's checklist, the sample shoppers that
fill the till, and the one-action reset of a training store.

Progress is read from what the clerk really did in the training store since its last reset (their
applications, how far each went, the after-sales cases they decided), so there is nothing to tick by
hand and nothing to keep in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session
from stdnum.cn import ric

from fenqi.aftersales.reporting import decided_by_staff
from fenqi.catalog.errors import NotTrainingMerchant
from fenqi.catalog.service import first_in_stock, get_merchant, reset_training
from fenqi.identity.roles import CLERK
from fenqi.identity.service import audit, staff_with_role
from fenqi.kit.crypto import blind_index
from fenqi.origination import service as origination
from fenqi.risk.bureau import EmulatedBureau


@dataclass(frozen=True, slots=True)
class Step:
    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Scenario:
    code: str
    zh: str
    en: str
    guide_zh: str
    guide_en: str
    steps: tuple[Step, ...]
    sample: str | None = None  # the till's sample shopper for it


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("sale", "正常销售", "A normal sale",
             "在收银台为样例顾客下单（可一键填入），获批后生成合同、勾选顾客同意并签约，再用“模拟顾客付款”收首付，交付手机。",
             "Take the sample shopper's order at the till (one click fills it), then on approval draw the contract, "
             "tick the shopper's agreement and sign, take the down payment with the practice payment and hand "
             "the phone over.",
             (Step("submitted", "提交申请", "Application submitted"), Step("approved", "审批通过", "Approved"),
              Step("signed", "签约", "Contract signed"),
              Step("paid", "收首付并交机", "Down payment taken, phone handed over")),
             sample="sale"),
    Scenario("decline", "拒绝", "A decline",
             "为样例学生顾客下单（可一键填入）：分期不向全日制学生放款，系统会拒绝。向顾客说明拒绝原因，不要替顾客改填资料。",
             "Take the sample student's order (one click fills it): no credit for full-time students, so it is "
             "declined. Explain the reason to the shopper; never change the shopper's answers for them.",
             (Step("declined", "处理被拒申请", "A declined application handled"),), sample="decline"),
    Scenario("return", "退货", "A return",
             "在售后服务台为一笔已完成的练习销售受理退货：核验手机、按系统建议办理，首付原路退回。",
             "At the after-sales desk, take a return of a completed practice sale: inspect the phone and follow "
             "what the system proposes; the down payment goes back the way it came.",
             (Step("returned", "办理退货", "A return taken"),)),
    Scenario("repair", "维修", "A repair",
             "在售后服务台为一笔练习销售受理维修：登记故障，按三包规则办理维修。",
             "At the after-sales desk, take a repair for a practice sale: record the fault and follow the "
             "warranty rules.",
             (Step("repair", "受理维修", "A repair taken"),)),
)
STEPS: tuple[str, ...] = tuple(f"{s.code}.{step.code}" for s in SCENARIOS for step in s.steps)


@dataclass(frozen=True, slots=True)
class ClerkProgress:
    user_id: int
    name: str
    done: frozenset[str]  # "scenario.step"

    def scenario_done(self, scenario: Scenario) -> bool:
        return all(f"{scenario.code}.{s.code}" in self.done for s in scenario.steps)

    @property
    def completed(self) -> int:
        return sum(1 for s in SCENARIOS if self.scenario_done(s))


def require_training(session: Session, merchant_id: int) -> None:
    merchant = get_merchant(session, merchant_id)
    if not merchant.training:
        raise NotTrainingMerchant(merchant.code)


def checklist(session: Session, merchant_id: int, *, user_id: int | None = None) -> list[ClerkProgress]:
    """Every clerk of a training merchant (or one of them) with the steps done since the last reset."""
    require_training(session, merchant_id)
    since = get_merchant(session, merchant_id).training_reset_at
    clerks = staff_with_role(session, CLERK, merchant_id)
    if user_id is not None:
        clerks = {uid: name for uid, name in clerks.items() if uid == user_id}
    done: dict[int, set[str]] = {uid: set() for uid in clerks}
    for sale in origination.clerk_activity(session, merchant_id, since):
        steps = done.get(sale.user_id)
        if steps is not None:
            steps.update(_sale_steps(sale))
    for uid, outcome in decided_by_staff(session, merchant_id, since):
        if uid in done and outcome in ("return", "repair"):
            done[uid].add("return.returned" if outcome == "return" else "repair.repair")
    return [ClerkProgress(uid, name, frozenset(done[uid])) for uid, name in clerks.items()]


def _sale_steps(sale: origination.ClerkSale) -> set[str]:
    steps = {"sale.submitted"}
    if sale.outcome == "approve" or sale.status in ("approved", "signed"):
        steps.add("sale.approved")
    if sale.status == "signed":
        steps.add("sale.signed")
        if sale.down_payment_paid:
            steps.add("sale.paid")
    if sale.status == "declined":
        steps.add("decline.declined")
    return steps


@dataclass(frozen=True, slots=True)
class ResetResult:
    applications_cancelled: int
    phones_restocked: int


def reset(session: Session, merchant_id: int, *, actor_user_id: int | None) -> ResetResult:
    """One action: the training store starts afresh. Open practice applications are cancelled, every phone
    goes back on its shelf and the clerks' checklists start again. The practice loans and their training
    book stay as they were (archived: the ledger is insert-only), out of every report as before."""
    require_training(session, merchant_id)
    cancelled = origination.cancel_open(session, merchant_id)
    restocked = reset_training(session, merchant_id)
    audit(session, actor_user_id=actor_user_id, action="training.reset", subject=f"merchant:{merchant_id}",
          detail=f"applications cancelled {cancelled}, phones restocked {restocked}")
    return ResetResult(cancelled, restocked)


# --- the sample shoppers of the till ----------------------------------------------------------------

_PROFILE = {"employment": "employed", "occupation": "skilled", "housing": "own", "bank_account": "salary",
            "savings": "20k_50k", "assets": "real_estate", "monthly_income": "12000.00",
            "employment_years": "5", "residence_years": "6", "existing_loans": "0"}
SAMPLES = ("sale", "decline")


def sample_form(session: Session, merchant_id: int, kind: str, consents: dict[str, str]) -> dict[str, Any]:
    """The till form filled for a sample shopper of a training store: `sale` (approved) or `decline`
    (a full-time student). Invented people; `consents` maps each consent's form field to its version."""
    require_training(session, merchant_id)
    values: dict[str, Any] = {**_PROFILE, **consents, "plan": "EI-12|12", "bank_card": "6222021234567890128"}
    shelf = first_in_stock(session, merchant_id)
    if shelf is not None:
        values.update(store=shelf[0], sku=shelf[1], imei=shelf[2])
    if kind == "decline":
        values.update(name="李练习", id_number=_clean_id_number("6"), phone="13900000002",
                      employment="student", occupation="none", housing="dormitory", monthly_income="1500.00",
                      bank_account="low_balance", savings="none", assets="none")
    else:
        values.update(name="张练习", id_number=_clean_id_number("5"), phone="13900000001")
    return values


@lru_cache(maxsize=4)
def _clean_id_number(first_digit: str) -> str:
    """An invented ID number (born 1990-03-07, sequence starting with `first_digit`) that the emulated
    bureau reports clean, so that practice is not declined by chance."""
    bureau = EmulatedBureau()
    number = ""
    for n in range(100):
        body = f"110105{date(1990, 3, 7):%Y%m%d}{first_digit}{n:02d}"
        number = body + ric.calc_check_digit(body + "0")
        report = bureau.report(blind_index(number))
        if (report.credit_history in ("current_ok", "all_repaid") and not report.overdue_now
                and report.inquiries_6m <= 2 and report.open_loans <= 1):
            break
    return number
