"""Repayment schedules for every method, exactly per DESIGN.md's rounding rules.

All amounts are Decimal yuan rounded half up to the fen at each step; the monthly rate is the
annual rate / 12 kept at full precision. The last period always takes the remaining balance, so
principal sums exactly to the financed amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from enum import StrEnum

from fenqi.kit.money import ZERO, round_fen
from fenqi.pricing.dates import due_dates


class Method(StrEnum):
    EQUAL_INSTALLMENT = "equal-installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal-principal"  # 等额本金
    FLAT_FEE = "flat-fee"  # 每期手续费
    INTEREST_FREE = "interest-free"  # 免息


METHOD_NAMES_ZH = {
    Method.EQUAL_INSTALLMENT: "等额本息",
    Method.EQUAL_PRINCIPAL: "等额本金",
    Method.FLAT_FEE: "每期手续费",
    Method.INTEREST_FREE: "免息",
}


@dataclass(frozen=True, slots=True)
class Installment:
    period: int
    due_date: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    remaining_principal: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee


def level_payment(financed: Decimal, monthly_rate: Decimal, term: int) -> Decimal:
    """A = round(P·r(1+r)^n / ((1+r)^n − 1)); with r = 0 it is P/n."""
    if monthly_rate == 0:
        return round_fen(financed / term)
    with localcontext() as ctx:
        ctx.prec = 34
        growth = (1 + monthly_rate) ** term
        return round_fen(financed * monthly_rate * growth / (growth - 1))


def _equal_installment(financed: Decimal, monthly_rate: Decimal, term: int) -> list[tuple[Decimal, Decimal]]:
    payment = level_payment(financed, monthly_rate, term)
    rows, balance = [], financed
    for k in range(1, term + 1):
        interest = round_fen(balance * monthly_rate)
        # The last period clears the balance; before it, never pay down more than is owed.
        principal = balance if k == term else min(max(payment - interest, ZERO), balance)
        rows.append((principal, interest))
        balance -= principal
    return rows


def equal_principal_parts(financed: Decimal, term: int) -> list[Decimal]:
    """round(P/n) each period, the last period the remainder (never more than is still owed)."""
    part = round_fen(financed / term)
    parts, balance = [], financed
    for k in range(1, term + 1):
        principal = balance if k == term else min(part, balance)
        parts.append(principal)
        balance -= principal
    return parts


def build_schedule(
    method: Method,
    financed: Decimal,
    term: int,
    start: date,
    annual_rate: Decimal = ZERO,
    fee_rate: Decimal = ZERO,
) -> list[Installment]:
    """The full schedule of a financed amount; pure, no validation beyond what arithmetic needs."""
    monthly_rate = annual_rate / 12
    if method is Method.EQUAL_INSTALLMENT:
        pairs = _equal_installment(financed, monthly_rate, term)
    else:
        pairs = []
        balance = financed
        for principal in equal_principal_parts(financed, term):
            interest = round_fen(balance * monthly_rate) if method is Method.EQUAL_PRINCIPAL else ZERO
            pairs.append((principal, interest))
            balance -= principal
    fee = round_fen(financed * fee_rate) if method is Method.FLAT_FEE else ZERO
    rows, balance = [], financed
    for k, ((principal, interest), due) in enumerate(zip(pairs, due_dates(start, term), strict=True), 1):
        balance -= principal
        rows.append(Installment(k, due, principal, interest, fee, balance))
    return rows
