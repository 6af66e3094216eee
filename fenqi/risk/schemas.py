"""What a credit decision takes in (`RiskInput`) and gives back (`Decision`).

`RiskInput` holds only what the application form collects (or origination derives from it: the
age and the full-time-student flag from the ID number and the form) plus hashes that identify the
shopper, phone and device without personal data. The credit bureau report is fetched by risk itself
and stored with the decision. Amounts are integer fen; JSON forms are yuan strings ("5999.00").

The scorecard (German Credit data) maps its features to these fields; see docs/model-card.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import fmt_yuan, from_fen, parse_yuan, to_fen

Outcome = Literal["approve", "refer", "decline"]
Employment = Literal["employed", "self_employed", "civil_servant", "retired", "unemployed", "student"]
# The shopper's skill level in the job (German Credit "job").
Occupation = Literal["none", "unskilled", "skilled", "professional"]
Housing = Literal["own", "mortgage", "rent", "family", "dormitory"]
# The shopper's main bank account as declared (German Credit "status of existing checking account").
BankAccount = Literal["none", "overdrawn", "low_balance", "salary"]
# Savings and deposits in yuan bands (German Credit "savings account/bonds").
Savings = Literal["none", "lt_5k", "5k_20k", "20k_50k", "gt_50k"]
# The most valuable asset the shopper declares (German Credit "property").
Assets = Literal["none", "car", "insurance", "real_estate"]
Severity = Literal["hard", "soft"]
Grade = Literal["A", "B", "C", "D", "E"]


class RiskInput(BaseModel):
    """One application as the risk engine sees it (no names, no raw ID or phone numbers)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Derived by origination: the age from the ID number's birth date on the business date.
    age: int = Field(ge=0, le=150)
    is_full_time_student: bool = False
    employment: Employment = "employed"
    occupation: Occupation = "skilled"
    employment_years: int = Field(0, ge=0, le=80, description="Years with the current employer / in business")
    monthly_income_fen: int = Field(ge=0)
    housing: Housing = "rent"
    residence_years: int = Field(0, ge=0, le=100, description="Years at the current address")
    bank_account: BankAccount = "low_balance"
    savings: Savings = "none"
    assets: Assets = "none"
    dependants: int = Field(0, ge=0, le=20)
    # Existing credit: cards and credit lines the shopper holds, installment loans with other lenders,
    # and loans currently open on this platform (origination counts those from servicing).
    existing_credits: int = Field(0, ge=0, le=100)
    existing_loans: int = Field(0, ge=0, le=100)
    open_loans: int = Field(0, ge=0, le=100)
    # The requested plan.
    price_fen: int = Field(0, ge=0, description="Phone price; 0 when unknown")
    financed_fen: int = Field(gt=0)
    installment_fen: int = Field(gt=0, description="The largest monthly installment of the chosen plan")
    term: int = Field(gt=0, le=60)
    product_code: str | None = None
    # Identity without personal data: fenqi.kit.crypto.blind_index of the ID and phone numbers.
    id_hash: str = Field(min_length=8, max_length=128)
    phone_hash: str = Field(min_length=8, max_length=128)
    device_imei: str | None = Field(None, max_length=20)
    # Where it came from (for the record and for velocity; not used by the score).
    application_id: int | None = None
    merchant_id: int | None = None
    channel: str = "store"
    # A training store's practice application (培训模式): decided the same way, but by the emulated bureau
    # only, with no manual review, and kept out of monitoring and reports.
    training: bool = False


class Reason(BaseModel):
    """A reason for a decision (also the adverse-action notice): a stable code and two languages."""

    model_config = ConfigDict(frozen=True)

    code: str
    zh: str
    en: str


class RuleHit(BaseModel):
    """A rule that fired: hard rules decline, soft rules refer to manual review."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    zh: str
    en: str
    detail: dict[str, Any] = Field(default_factory=dict)


class AllowedPlan(BaseModel):
    """A product the shopper may sign for this grade and the terms allowed with it."""

    model_config = ConfigDict(frozen=True)

    product_code: str
    terms: list[int]


class Decision(BaseModel):
    """The answer for one application, stored (with its inputs and bureau report) so it can be re-run."""

    id: int | None = None
    application_id: int | None = None
    outcome: Outcome
    score: int | None = None
    probability_of_default: str | None = None  # decimal text, e.g. "0.0831"
    grade: Grade | None = None
    credit_limit_fen: int = 0
    allowed_plans: list[AllowedPlan] = Field(default_factory=list)
    reasons: list[Reason] = Field(default_factory=list, max_length=4)
    rules_fired: list[RuleHit] = Field(default_factory=list)
    model_version: str
    rules_version: str
    bureau_provider: str | None = None
    review_status: Literal["none", "pending", "approved", "declined"] = "none"
    review_note: str = ""
    decided_at: datetime | None = None

    @property
    def final_outcome(self) -> Outcome:
        """The outcome after any manual review: a referred decision becomes approve or decline."""
        if self.review_status == "approved":
            return "approve"
        if self.review_status == "declined":
            return "decline"
        return self.outcome

    @property
    def allowed_product_codes(self) -> list[str]:
        return [p.product_code for p in self.allowed_plans]

    def allows(self, product_code: str, term: int) -> bool:
        return any(p.product_code == product_code and term in p.terms for p in self.allowed_plans)

    def to_json(self) -> dict[str, Any]:
        """The API form: the limit in yuan, everything else as is."""
        data = self.model_dump(mode="json", exclude={"credit_limit_fen"})
        data["credit_limit"] = fmt_yuan(from_fen(self.credit_limit_fen))
        data["final_outcome"] = self.final_outcome
        return data


# Amount fields as they appear in JSON (yuan strings) and in RiskInput (integer fen).
MONEY_FIELDS = {"monthly_income": "monthly_income_fen", "price": "price_fen", "financed": "financed_fen",
                "installment": "installment_fen"}


def input_from_json(data: dict[str, Any]) -> RiskInput:
    """A RiskInput from its JSON form (amounts in yuan, "8000.00"); bad input raises InvalidInput."""
    from pydantic import ValidationError

    values = dict(data)
    for yuan_key, fen_key in MONEY_FIELDS.items():
        if yuan_key in values:
            raw = values.pop(yuan_key)
            if raw is not None:
                values[fen_key] = to_fen(parse_yuan(raw, field=yuan_key))
    try:
        return RiskInput.model_validate(values)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()})
        raise InvalidInput(", ".join(f.replace("_fen", "") for f in fields)) from None


def input_to_json(inp: RiskInput) -> dict[str, Any]:
    """The JSON form of a RiskInput: amounts in yuan strings."""
    data = inp.model_dump(mode="json")
    for yuan_key, fen_key in MONEY_FIELDS.items():
        data[yuan_key] = fmt_yuan(from_fen(data.pop(fen_key)))
    return data


# -- responses of the HTTP API ----------------------------------------------------------------


class DecisionOut(BaseModel):
    """A decision as the API sends it: the limit in yuan, and the outcome after any manual review."""

    model_config = ConfigDict(extra="forbid")

    id: int | None
    application_id: int | None
    outcome: Outcome
    score: int | None
    probability_of_default: str | None = Field(description="Decimal text, e.g. \"0.0831\"")
    grade: Grade | None
    allowed_plans: list[AllowedPlan]
    reasons: list[Reason]
    rules_fired: list[RuleHit]
    model_version: str
    rules_version: str
    bureau_provider: str | None
    review_status: Literal["none", "pending", "approved", "declined"]
    review_note: str
    decided_at: str | None = Field(description="ISO 8601")
    credit_limit: str = Field(pattern=r"^-?\d+\.\d{2}$", examples=["5000.00"])
    final_outcome: Outcome


class ReplayOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reproduced: bool
    differences: list[str]
    stored: DecisionOut
    replayed: DecisionOut


class ReviewQueue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    items: list[DecisionOut]


class PolicyVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    active: bool
    note: str
    created_at: str


class ListEntryOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    kind: str
    value: str
    reason: str
    created_at: str


class RiskList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ListEntryOut]


class RiskStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: str
    decisions: int
    outcomes: dict[str, int]
    grades: dict[str, int]
    approval_rate: str | None
    mean_score: float | None
    pending_reviews: int
    rules_fired: dict[str, int] = Field(description="Rule code → times fired, most frequent first")


class ScorecardBin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    values: list[str] | None = None
    upper: float | None = None
    count: int
    bad_rate: float
    woe: float
    points: int


class ScorecardFeature(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    type: str
    coefficient: float
    iv: float
    default_bin: int
    bins: list[ScorecardBin]


class ScorecardScaling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_score: int
    base_odds: int | float
    pdo: int | float
    factor: float
    offset: float


class SplitMetrics(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int
    bad: int
    auc: float
    ks: float


class ScorecardOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    scaling: ScorecardScaling
    base_points: int
    features: list[ScorecardFeature]
    metrics: dict[str, SplitMetrics] = Field(description="train and test (held-out) AUC and KS")
    dataset: dict[str, Any] = Field(description="Where the training data came from: package, file, sha256, split")
