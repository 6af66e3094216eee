"""After-sales JSON shapes: policies, cases (with their proposal, refunds, repair and events), ratings and
complaints. Amounts are strings in yuan with two decimals; dates ISO."""

from __future__ import annotations

from pydantic import Field

from fenqi.kit.schemas import Bilingual, Day, Money, Out, Timestamp


class ChecklistItemOut(Out):
    code: str
    zh: str
    en: str
    deduction: Money
    forfeits_no_reason: bool = Field(description="Failing it forfeits the no-reason return")
    voids_warranty: bool = Field(description="Failing it voids the warranty (paid repair only)")


class PolicyRules(Out):
    no_reason_return_days: int
    no_reason_in_store: bool
    fault_return_days: int
    fault_exchange_days: int
    warranty_months: dict[str, int] = Field(description="Per part: handset, charger, battery, headset")
    repair_deadline_days: int
    loaner_after_days: int = Field(description="A loaner phone is offered when a repair takes longer")
    failed_repairs_for_exchange: int
    cheaper_exchange: str = Field(description="reduce_principal | refund")
    checklist: list[ChecklistItemOut]


class PolicyOut(Out):
    merchant_id: int | None
    version: int = Field(description="0: the built-in default")
    rules: PolicyRules


class DeductionOut(Out):
    code: str
    zh: str
    en: str
    amount: Money


class ProposalOut(Out):
    allowed: list[str] = Field(description="Outcomes the policy allows: return | exchange | repair")
    recommended: str | None
    free_repair: bool
    deductions: list[DeductionOut]
    deduction_total: Money
    explanation: Bilingual


class CaseRefundOut(Out):
    id: int = Field(description="The refund's id (finance settles, retries or cancels a manual one by it)")
    out_trade_no: str
    channel: str
    purpose: str
    amount: Money
    status: str = Field(description="pending | processing | succeeded | failed (retried) | manual (refused "
                                    "for good or too many times: no longer retried, handled by staff) | "
                                    "settled (paid back by finance outside the channel) | cancelled (by finance)")
    attempt: int
    out_refund_no: str | None
    last_error: str | None


class EventOut(Out):
    at: Timestamp
    kind: str
    text: str


class InstallmentRowOut(Out):
    period: int
    due_date: Day
    total: Money
    principal: Money
    interest: Money
    fee: Money


class ScheduleOut(Out):
    """The loan's schedule after an exchange changed it, with its annual percentage rate."""

    principal_outstanding: Money
    apr: str = Field(description="Annual percentage rate, a fraction")
    installments: list[InstallmentRowOut]


class RepriceOut(Out):
    """A pricier exchange's difference financed as a new plan: the offer, its contract and schedule."""

    status: str = Field(description="offered (to sign) | signed | abandoned")
    contract_sha256: str = Field(description="Sign the addendum by this hash")
    contract_url: str
    term: int = Field(description="Open periods of the new schedule")
    new_imei: str
    difference: Money
    apr: str | None = Field(description="Annual percentage rate of the new schedule, a fraction (while offered)")
    principal: Money | None = Field(description="The new principal: outstanding + difference (while offered)")
    installments: list[InstallmentRowOut]


class CaseSummary(Out):
    id: int
    status: str = Field(description="requested | inspected | processing | completed | refused | cancelled")
    requested: str
    reason: str
    outcome: str | None
    loan_id: int
    imei: str
    sku: str
    part: str
    description: str
    sale_date: Day
    opened_on: Day
    day: int = Field(description="Days since the handover when the case was opened (the sale is day 0)")
    policy_version: int
    inspection: dict[str, bool] | None
    proposal: ProposalOut | None
    deductions: Money
    refund_total: Money
    steps: dict[str, str] = Field(description="Workflow steps done (business date, or a figure)")
    new_imei: str | None
    difference: Money = Field(description="Exchange: new price − old price + deductions")
    difference_order: str | None
    refunds: list[CaseRefundOut]
    events: list[EventOut]
    closed_at: Timestamp | None
    note: str = Field("", description="The desk's note; for a refused case, the reason given to the shopper")
    schedule: ScheduleOut | None = None
    reprice: RepriceOut | None = None


class RepairOut(Out):
    id: int
    case_id: int
    imei: str
    part: str
    fault: str
    free: bool
    status: str
    received_on: Day
    deadline: Day
    breached: bool
    failed_repairs: int
    loaner_imei: str | None
    loaner_offered: bool = Field(False, description="The repair takes longer than the policy's loaner days")
    diagnosis: str


class DifferencePaymentOut(Out):
    out_trade_no: str
    status: str
    pay_url: str | None
    amount: Money
    channel: str


class CaseOut(CaseSummary):
    repair: RepairOut | None
    difference_payment: DifferencePaymentOut | None


class CaseList(Out):
    cases: list[CaseSummary]


class FeedbackOut(Out):
    id: int
    about: str
    subject_id: int
    score: int


class NpsOut(Out):
    responses: int
    promoters: int
    detractors: int
    nps: int | None = Field(description="% promoters (9–10) − % detractors (0–6); none without ratings")


class ComplaintOut(Out):
    id: int
    category: str
    category_name: str
    text: str
    status: str
    level: int
    loan_id: int | None
    assignee_user_id: int | None
    respond_by: Timestamp
    resolve_by: Timestamp
    responded_at: Timestamp | None
    resolved_at: Timestamp | None
    response: str
    resolution: str
    breaches: list[str]


class ComplaintDetail(ComplaintOut):
    events: list[EventOut]


class ComplaintList(Out):
    complaints: list[ComplaintOut]
