"""The credit bureau (征信) as a pluggable provider.

A provider answers with a `BureauReport` for an ID hash (the shopper's 征信授权 has been recorded by
origination before a decision is asked for). The report is stored with the decision, so a re-run
uses the same report even if the bureau would answer differently today. `FENQI_RISK_BUREAU` picks the
provider; `emulated` (the default) is deterministic by ID hash, for the demo and tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from fenqi.kit.settings import get_settings

CreditHistory = Literal["no_credit", "all_repaid", "current_ok", "past_delays", "credit_elsewhere"]


class BureauReport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    credit_history: CreditHistory
    open_loans: int = Field(0, ge=0)  # open loans with other lenders
    overdue_now: bool = False  # an account currently past due
    max_dpd_24m: int = Field(0, ge=0)  # worst days past due in the last 24 months
    inquiries_6m: int = Field(0, ge=0)  # hard inquiries in the last 6 months


class BureauProvider(Protocol):
    name: str

    def report(self, id_hash: str) -> BureauReport: ...


class BureauUnavailable(Exception):
    """The provider could not answer; the decision is referred rather than guessed."""


# Shares of the credit-history categories in the German Credit data, so the emulator's population
# scores like the training population (in thousandths, summing to 1000).
_HISTORY_SHARES: tuple[tuple[CreditHistory, int], ...] = (
    ("no_credit", 40), ("all_repaid", 49), ("current_ok", 530), ("past_delays", 88), ("credit_elsewhere", 293),
)


class EmulatedBureau:
    """A stand-in bureau: every figure is derived from a hash of the ID hash, so it never changes."""

    name = "emulated"

    def report(self, id_hash: str) -> BureauReport:
        digest = hashlib.sha256(b"fenqi-bureau-emulator:" + id_hash.encode()).digest()
        pick = int.from_bytes(digest[:4], "big") % 1000
        history: CreditHistory = "current_ok"
        for category, share in _HISTORY_SHARES:
            if pick < share:
                history = category
                break
            pick -= share
        overdue_now = digest[4] < 8  # about 3%
        delayed = history == "past_delays" or overdue_now
        return BureauReport(
            provider=self.name,
            credit_history=history,
            open_loans=(digest[5] % 4) if history in ("current_ok", "credit_elsewhere") else 0,
            overdue_now=overdue_now,
            max_dpd_24m=(30 + digest[6] % 60) if delayed else 0,
            # Mostly 0–3 inquiries; about one in twenty shoppers has been shopping for credit hard.
            inquiries_6m=digest[7] % 4 + (4 if digest[8] < 13 else 0),
        )


_PROVIDERS: dict[str, Callable[[], BureauProvider]] = {"emulated": EmulatedBureau}


def register_provider(name: str, factory: Callable[[], BureauProvider]) -> None:
    """Plug in a real bureau (or a bank's data service) under a name for FENQI_RISK_BUREAU."""
    _PROVIDERS[name] = factory


def get_provider(name: str | None = None) -> BureauProvider:
    name = name or get_settings().risk_bureau
    try:
        return _PROVIDERS[name]()
    except KeyError:
        raise BureauUnavailable(f"unknown bureau provider {name!r}") from None
