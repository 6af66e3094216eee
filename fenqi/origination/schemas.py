"""What a shopper (or the clerk acting for a walk-in shopper) submits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fenqi.kit.bounds import Amount
from fenqi.kit.schemas import Bilingual, Day, Money, Out, Rate, Timestamp
from fenqi.pricing.schemas import QuoteInstallment
from fenqi.risk.schemas import (
    AllowedPlan,
    Assets,
    BankAccount,
    DecisionOut,
    Employment,
    Housing,
    Occupation,
    Reason,
    Savings,
)


class ProfileIn(BaseModel):
    """The scorecard's fields (see docs/model-card.md for how each maps to the model)."""

    model_config = ConfigDict(extra="forbid")

    is_full_time_student: bool = False
    employment: Employment = "employed"
    occupation: Occupation = "skilled"
    employment_years: int = Field(0, ge=0, le=80)
    monthly_income: Amount = Field(description="Monthly income in yuan, e.g. \"8000.00\"")
    housing: Housing = "rent"
    residence_years: int = Field(0, ge=0, le=100)
    bank_account: BankAccount = "low_balance"
    savings: Savings = "none"
    assets: Assets = "none"
    dependants: int = Field(0, ge=0, le=20)
    existing_credits: int = Field(0, ge=0, le=100)
    existing_loans: int = Field(0, ge=0, le=100)


class ConsentIn(BaseModel):
    kind: str = Field(description="credit_inquiry | personal_info")
    version: str = Field(description="The exact text version shown and agreed to")


class ApplicationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "store": "S-SH-XJH", "sku": "IP16-128-1", "imei": None, "product": "EI-12", "term": 12,
                "down_payment": "1000.00", "name": "张三", "id_number": "11010519900307803X",
                "phone": "13812345678", "bank_card": "6222021234567890128",
                "profile": {"employment": "employed", "monthly_income": "9000.00", "housing": "rent"},
                "consents": [{"kind": "credit_inquiry", "version": "credit-inquiry-2026.1"},
                             {"kind": "personal_info", "version": "personal-info-2026.1"}],
            }
        },
    )

    store: str = Field(max_length=40)
    sku: str = Field(max_length=60)
    imei: str | None = Field(None, max_length=20)
    product: str = Field(max_length=40)
    term: int
    down_payment: Amount | None = Field(None, description="Yuan; default: the product's minimum")
    name: str = Field(max_length=60)
    id_number: str = Field(max_length=30)
    phone: str = Field(max_length=30)
    bank_card: str = Field(max_length=30)
    profile: ProfileIn
    consents: list[ConsentIn]
    device: str | None = Field(None, max_length=200, description="The shopper's device, for the consent record")
    coupon: str | None = Field(None, max_length=20, description=(
        "A coupon of the shopper's (减息券/免息券) to price the plan with; redeemed at signing"))
    share: str | None = Field(None, max_length=16, pattern=r"^[A-Za-z0-9_-]+$", description=(
        "The share link's token the shopper came through (attributes the application to its clerk and store)"))


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contract_sha256: str = Field(min_length=64, max_length=64)
    consent_version: str
    imei: str | None = Field(None, description="The handed-over phone, if not given with the application")
    channel: str = Field("alipay", description="alipay | wechatpay, for the down payment")
    hb_fq_num: int | None = Field(None, ge=1, le=36, description=(
        "pay the down payment with 花呗分期 (Alipay) in 3, 6 or 12 periods; who pays the fee is the "
        "merchant's setting"))
    device: str | None = Field(None, max_length=200)


# -- responses ---------------------------------------------------------------------------------


class ConsentText(Out):
    kind: str
    version: str
    title: Bilingual
    text: str
    sha256: str


class ConsentTexts(Out):
    consents: list[ConsentText]


class MaskedShopper(Out):
    """The shopper as staff and the API see them: personal data masked."""

    name: str
    id_number: str
    phone: str
    bank_card: str
    age: int


class ChosenPlan(Out):
    product: str
    method: str
    term: int
    apr: Rate
    down_payment: Money
    financed: Money
    max_installment: Money


class ApplicationDecision(Out):
    id: int | None
    outcome: str | None
    grade: str | None
    credit_limit: Money
    reasons: list[Reason]
    allowed_plans: list[AllowedPlan]
    plan_allowed: bool | None


class ApplicationOut(Out):
    id: int
    status: str
    channel: str
    business_date: Day
    merchant_id: int
    store_id: int
    shopper: MaskedShopper
    sku: str
    imei: str | None
    price: Money
    plan: ChosenPlan
    decision: ApplicationDecision
    funder: str | None
    loan_id: int | None
    payment_order: str | None
    down_payment_paid: bool
    signed_at: Timestamp | None


class ApplicationList(Out):
    applications: list[ApplicationOut]


class SubmittedOut(Out):
    """201 approved, 202 referred; a decline (422) or no quota (409) adds `error` and `message`."""

    application: ApplicationOut
    decision: DecisionOut


class SuggestionOut(Out):
    """A plan the rules would approve after a decline; `key` takes it."""

    key: str = Field(examples=["down_payment|IP16-128-1|EI-12|12|360000"])
    kind: str = Field(description="down_payment | term | model")
    sku: str
    product: str
    term: int
    price: Money
    down_payment: Money
    financed: Money
    max_installment: Money
    apr: Rate


class SuggestionsOut(Out):
    application_id: int
    suggestions: list[SuggestionOut]


class TakeSuggestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200, description="A suggestion's key, as listed")
    device: str | None = Field(None, max_length=200, description="The shopper's device, for the consent record")


class CounterOfferIn(BaseModel):
    """A risk officer's approval of a referred application on another plan within the decision."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(max_length=40, examples=["EI-12"])
    term: int = Field(ge=1, le=60, examples=[6])
    down_payment: Amount | None = Field(None, description="Yuan; default: the product's minimum")
    note: str = Field(min_length=1, max_length=2000, description="Why (kept with the review)")


class OfferProduct(Out):
    code: str
    name: Bilingual


class MerchantSide(Out):
    subsidy: Money
    fee: Money
    disbursement: Money


class OfferOut(Out):
    """The plan as it would be signed today: APR first, the full schedule and the total cost."""

    application_id: int
    apr: Rate
    apr_percent: str = Field(examples=["12.00%"])
    product: OfferProduct
    funder: str | None
    shopper: str
    price: Money
    down_payment: Money
    financed: Money
    method: str
    term: int
    annual_rate: Rate
    fee_rate: Rate
    total_interest: Money
    total_fee: Money
    total_repayment: Money
    installments: list[QuoteInstallment]
    total_cost: Money
    merchant: MerchantSide


class ContractConsent(Out):
    kind: str
    version: str
    text: str


class ContractOut(Out):
    application_id: int
    contract_no: str
    sha256: str = Field(description="Send it back to sign: the PDF the shopper saw is the one signed")
    funder: str
    pdf_url: str
    consent: ContractConsent


class DisbursementOut(Out):
    amount: Money
    subsidy: Money
    merchant_fee: Money
    financed: Money
    apr: Rate


class DownPaymentOrder(Out):
    out_trade_no: str
    status: str
    pay_url: str
    amount: Money
    channel: str


class SignedOut(Out):
    application_id: int
    status: str
    loan_id: int
    imei: str | None
    contract_sha256: str
    funder: str
    disbursement: DisbursementOut
    down_payment_order: DownPaymentOrder | None


class RecordedConsent(Out):
    kind: str
    text_version: str
    text_sha256: str
    document_sha256: str | None
    agreed_at: Timestamp
    ip: str
    device: str


class RecordedConsents(Out):
    consents: list[RecordedConsent]


class ApplicationStatus(Out):
    """What the shopper's waiting page polls: it reloads when the status changes."""

    status: str


class ApplicationProgress(Out):
    """What the store's application page polls while it waits for a decision, the down payment or the handover."""

    status: str
    paid: bool = Field(description="The down payment is paid (or there is none)")
    handed_over: bool
