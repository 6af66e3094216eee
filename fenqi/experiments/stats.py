"""The significance test of a difference between two arms' rates (pure, no database).

Two-proportion z-test with the pooled rate: p = (x₁ + x₂) / (n₁ + n₂), se = √(p(1 − p)(1/n₁ + 1/n₂)),
z = (x₂/n₂ − x₁/n₁) / se, two-sided p-value = erfc(|z| / √2). These are statistics, not money, so they
are computed in binary floating point (math) and handed out as Decimals rounded to four places.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

PLACES = Decimal("0.0001")
SIGNIFICANT = Decimal("0.05")


@dataclass(frozen=True, slots=True)
class ZTest:
    z: Decimal
    p_value: Decimal

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANT


def _dec(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(PLACES, rounding=ROUND_HALF_UP)


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> ZTest | None:
    """The test of arm 2 against arm 1; None when it cannot be computed (an empty arm, or both rates 0 or 1)."""
    if n1 <= 0 or n2 <= 0 or not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        return None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return None
    z = (x2 / n2 - x1 / n1) / math.sqrt(variance)
    return ZTest(_dec(z), _dec(math.erfc(abs(z) / math.sqrt(2))))
