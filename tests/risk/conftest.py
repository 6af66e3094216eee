"""Risk test helpers: a creditworthy application to vary, and ID hashes with chosen bureau reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fenqi.risk.bureau import BureauReport, EmulatedBureau
from fenqi.risk.schemas import RiskInput

GOOD: dict[str, Any] = {
    "age": 35, "is_full_time_student": False, "employment": "employed", "occupation": "skilled",
    "employment_years": 5, "monthly_income_fen": 1_200_000, "housing": "own", "residence_years": 4,
    "bank_account": "salary", "savings": "20k_50k", "assets": "real_estate", "dependants": 1,
    "existing_credits": 1, "existing_loans": 0, "open_loans": 0, "price_fen": 599_900,
    "financed_fen": 300_000, "installment_fen": 27_000, "term": 6, "product_code": "EI-12",
    "phone_hash": "phone-hash-good-0001", "device_imei": "356938035643809",
}


def find_id_hash(prefix: str, wanted: Callable[[BureauReport], bool]) -> str:
    """The first ID hash `<prefix>-N` whose emulated bureau report satisfies `wanted` (deterministic)."""
    bureau = EmulatedBureau()
    for n in range(100_000):
        candidate = f"{prefix}-{n:06d}"
        if wanted(bureau.report(candidate)):
            return candidate
    raise AssertionError("no such ID hash")


CLEAN_ID = find_id_hash(
    "clean", lambda r: r.credit_history == "credit_elsewhere" and not r.overdue_now and r.max_dpd_24m == 0
    and r.inquiries_6m <= 3 and r.open_loans == 0,
)


@pytest.fixture()
def make_input() -> Callable[..., RiskInput]:
    """A creditworthy application; keyword arguments change fields (id_hash defaults to a clean bureau)."""

    def make(**changes: Any) -> RiskInput:
        return RiskInput(**{**GOOD, "id_hash": CLEAN_ID, **changes})

    return make
