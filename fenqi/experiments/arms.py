"""Arms and the stable assignment of a shopper to one (pure: no database).

A shopper's arm is sha256("<experiment code>:<subject>") read as a number, taken modulo the sum of the
arms' weights and looked up in the arms' cumulative weights: the same shopper always lands in the same arm
of an experiment, and the experiment's code in the hash makes the arms of two experiments independent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fenqi.experiments.errors import InvalidExperiment

# How the plan menu is ordered: terms ascending (as without an experiment), longest first, or the term of
# the plan recommended to the shopper first.
ORDERS: dict[str, tuple[str, str]] = {
    "term_asc": ("期数从短到长", "Shortest term first"),
    "term_desc": ("期数从长到短", "Longest term first"),
    "recommended_first": ("推荐方案所在期数在前", "The recommended plan's term first"),
}
# Which plan is highlighted (preselected) on the menu: none, the one recommended to the shopper, the
# cheapest over all terms, or the cheapest plan of a given term.
HIGHLIGHTS: dict[str, tuple[str, str]] = {
    "none": ("不突出", "None"),
    "recommended": ("突出推荐方案", "The recommended plan"),
    "cheapest": ("突出实付最少的方案", "The cheapest plan"),
    **{f"term_{n}": (f"突出 {n} 期", f"The {n}-month plan") for n in (3, 6, 12, 24)},
}
CONTROL = {"order": "term_asc", "highlight": "recommended"}  # the menu when no experiment runs
_ARM_CODE = re.compile(r"[A-Za-z0-9_-]{1,20}")
MAX_ARMS = 5
MAX_WEIGHT = 10_000


@dataclass(frozen=True, slots=True)
class Arm:
    code: str
    weight: int
    order: str
    highlight: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "weight": self.weight, "order": self.order, "highlight": self.highlight}


def _bad(zh: str, en: str) -> InvalidExperiment:
    return InvalidExperiment(zh=f"实验设置有误：{zh}", en=f"Invalid experiment: {en}")


def parse_arms(raw: Sequence[dict[str, Any]]) -> list[Arm]:
    """Arms as stored or sent: 2 to 5, distinct codes, positive weights, known orders and highlights."""
    if not 2 <= len(raw) <= MAX_ARMS:
        raise _bad("须有 2 至 5 个分组", "an experiment has 2 to 5 arms")
    arms = []
    for item in raw:
        code, order, highlight = str(item.get("code", "")), str(item.get("order", "")), str(item.get("highlight", ""))
        try:
            weight = int(item.get("weight", 0))
        except (TypeError, ValueError):
            weight = 0
        if not _ARM_CODE.fullmatch(code):
            raise _bad("分组编号为 1 至 20 个字母、数字、- 或 _", "an arm's code is 1 to 20 letters, digits, - or _")
        if not 1 <= weight <= MAX_WEIGHT:
            raise _bad("分组权重须为 1 至 10000 的整数", "an arm's weight is a whole number from 1 to 10000")
        if order not in ORDERS or highlight not in HIGHLIGHTS:
            raise _bad("请选择排序和突出方式", "choose each arm's order and highlight")
        arms.append(Arm(code, weight, order, highlight))
    if len({a.code for a in arms}) != len(arms):
        raise _bad("分组编号不能重复", "arm codes must differ")
    return arms


def bucket(experiment_code: str, subject: str) -> int:
    """The subject's number in this experiment: the first 8 bytes of sha256("code:subject")."""
    digest = hashlib.sha256(f"{experiment_code}:{subject}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def arm_for(experiment_code: str, subject: str, arms: Sequence[Arm]) -> Arm:
    point = bucket(experiment_code, subject) % sum(a.weight for a in arms)
    for arm in arms:
        if point < arm.weight:
            return arm
        point -= arm.weight
    raise AssertionError("unreachable: the point is below the total weight")
