"""What a shopper (or the clerk acting for a walk-in shopper) submits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fenqi.kit.bounds import Amount
from fenqi.risk.schemas import Assets, BankAccount, Employment, Housing, Occupation, Savings


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


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contract_sha256: str = Field(min_length=64, max_length=64)
    consent_version: str
    imei: str | None = Field(None, description="The handed-over phone, if not given with the application")
    channel: str = Field("alipay", description="alipay | wechatpay, for the down payment")
    device: str | None = Field(None, max_length=200)
