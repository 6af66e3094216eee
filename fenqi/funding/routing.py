"""Choosing a funding partner for an approved application: pure functions over eligible candidates.

Strategies:
- lowest_cost: the partner whose own annual rate is lowest (then priority, then code);
- quota_balancing: the partner with the largest share of today's quota still unused;
- priority: the configured list in order, then the partners' own priority numbers.
A pilot share overlays any of them: a fixed fraction of applications, chosen by a hash of the
application id (so the same application always routes the same way, and tests can predict it),
goes to the pilot partner when it is eligible.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from fenqi.funding.errors import UnknownStrategy

GRADES = ("A", "B", "C", "D", "E")


class Strategy(StrEnum):
    LOWEST_COST = "lowest_cost"
    QUOTA_BALANCING = "quota_balancing"
    PRIORITY = "priority"


def parse_strategy(raw: str) -> Strategy:
    try:
        return Strategy(raw)
    except ValueError:
        raise UnknownStrategy(raw) from None


@dataclass(frozen=True, slots=True)
class Candidate:
    code: str
    annual_rate: Decimal
    priority: int
    daily_quota_fen: int
    daily_left_fen: int
    monthly_left_fen: int


@dataclass(frozen=True, slots=True)
class Policy:
    strategy: Strategy
    priority_list: tuple[str, ...] = ()
    pilot_funder: str | None = None
    pilot_share: Decimal = Decimal(0)


def grade_allows(grade: str, min_grade: str) -> bool:
    """A funder taking grades down to C takes A, B and C."""
    return GRADES.index(grade) <= GRADES.index(min_grade)


def pilot_bucket(application_id: int) -> Decimal:
    """A stable number in [0, 1) for an application: the first 4 bytes of SHA-256 of its id."""
    digest = hashlib.sha256(f"fenqi-pilot:{application_id}".encode()).digest()
    return Decimal(int.from_bytes(digest[:4], "big")) / Decimal(2**32)


def in_pilot(application_id: int, share: Decimal) -> bool:
    return share > 0 and pilot_bucket(application_id) < share


def _rank(candidates: list[Candidate], policy: Policy) -> list[Candidate]:
    if policy.strategy is Strategy.LOWEST_COST:
        return sorted(candidates, key=lambda c: (c.annual_rate, c.priority, c.code))
    if policy.strategy is Strategy.QUOTA_BALANCING:
        # Exact fraction comparison without floats: left/quota, largest first.
        return sorted(candidates, key=lambda c: (-Decimal(c.daily_left_fen) / max(c.daily_quota_fen, 1), c.code))
    order = {code: i for i, code in enumerate(policy.priority_list)}
    return sorted(candidates, key=lambda c: (order.get(c.code, len(order)), c.priority, c.code))


def choose(candidates: list[Candidate], policy: Policy, application_id: int) -> list[Candidate]:
    """Candidates in the order to try them (the first is the choice; the rest are fallbacks)."""
    ranked = _rank(candidates, policy)
    if policy.pilot_funder and in_pilot(application_id, policy.pilot_share):
        pilot = [c for c in ranked if c.code == policy.pilot_funder]
        ranked = pilot + [c for c in ranked if c.code != policy.pilot_funder]
    elif policy.pilot_funder:
        # Outside the pilot share, the new partner is only a last resort.
        ranked = [c for c in ranked if c.code != policy.pilot_funder] + [
            c for c in ranked if c.code == policy.pilot_funder
        ]
    return ranked
