"""The repayment waterfall (还款冲抵顺序), a pure function.

Past-due amounts are paid component by component in the product's order (default: penalty → fee →
interest → principal), each component oldest installment first. Whatever is left is the shopper's
credit balance (溢缴款): close-of-business applies it with the same waterfall to the next installment
on its due date, and it can be refunded. Paying down future principal is an explicit early repayment
(fenqi.servicing.prepayment.prepay / purpose="prepayment"), where the shopper chooses a shorter term or a
lower installment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

COMPONENTS = ("penalty", "fee", "interest", "principal")
DEFAULT_ORDER = COMPONENTS


@dataclass(frozen=True, slots=True)
class Owed:
    """What one due installment still owes, in fen."""

    period: int
    fee: int = 0
    interest: int = 0
    principal: int = 0


@dataclass(slots=True)
class Allocation:
    penalty: int = 0
    fee: dict[int, int] = field(default_factory=dict)  # period → fen
    interest: dict[int, int] = field(default_factory=dict)
    principal: dict[int, int] = field(default_factory=dict)
    credit: int = 0  # not needed for anything owed

    def total(self, component: str) -> int:
        if component == "penalty":
            return self.penalty
        return sum(getattr(self, component).values())

    @property
    def applied(self) -> int:
        return sum(self.total(c) for c in COMPONENTS)


def validate_order(order: Sequence[str]) -> tuple[str, ...]:
    if sorted(order) != sorted(COMPONENTS):
        raise ValueError(f"allocation order must be a permutation of {COMPONENTS}, got {list(order)}")
    return tuple(order)


def allocate(
    amount: int,
    penalty: int,
    owed: Sequence[Owed],
    order: Sequence[str] = DEFAULT_ORDER,
) -> Allocation:
    """Split `amount` fen over the loan-level penalty and the installments (given oldest first)."""
    if amount < 0 or penalty < 0:
        raise ValueError("amounts must not be negative")
    result = Allocation()
    left = amount
    for component in validate_order(order):
        if component == "penalty":
            take = min(left, penalty)
            result.penalty = take
            left -= take
            continue
        paid: dict[int, int] = getattr(result, component)
        for row in owed:
            due = getattr(row, component)
            if due < 0:
                raise ValueError("owed amounts must not be negative")
            take = min(left, due)
            if take:
                paid[row.period] = paid.get(row.period, 0) + take
                left -= take
    result.credit = left
    return result
