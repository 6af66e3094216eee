"""Scoring from the committed scorecard artifact (JSON): bins → points → score, PD and reason codes.

Pure Python, no training libraries: a score is a few dictionary look-ups. The artifact is written by
`fenqi risk train` (fenqi/risk/training.py); artifacts are kept by version so an old decision can be
re-scored with the model it was made with.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from fenqi.kit.errors import NotFound
from fenqi.risk.features import FEATURES, Value
from fenqi.risk.reasons import feature_reason
from fenqi.risk.schemas import Reason

MODEL_DIR = Path(__file__).parent / "model"
CURRENT_MODEL = "gc-2026.11.1"


@dataclass(frozen=True, slots=True)
class Bin:
    label: str
    points: int
    woe: float
    upper: float | None = None  # numeric: values below this (None: no upper bound)
    values: frozenset[str] = frozenset()  # categorical


@dataclass(frozen=True, slots=True)
class FeatureCard:
    name: str
    numeric: bool
    bins: tuple[Bin, ...]
    default_bin: int  # for a category the training data never had
    max_points: int

    def bin_index(self, value: Value) -> int:
        if self.numeric:
            uppers = [b.upper for b in self.bins if b.upper is not None]
            return bisect_right(uppers, float(value))
        for i, b in enumerate(self.bins):
            if str(value) in b.values:
                return i
        return self.default_bin


@dataclass(frozen=True, slots=True)
class ScoreResult:
    score: int
    probability_of_default: Decimal
    points: dict[str, int]
    bins: dict[str, str]
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Scorecard:
    version: str
    base_points: int
    offset: float
    factor: float
    features: tuple[FeatureCard, ...]
    raw: dict[str, Any]

    def score(self, values: dict[str, Value]) -> ScoreResult:
        points: dict[str, int] = {}
        bins: dict[str, str] = {}
        losses: list[tuple[int, int, str]] = []
        for card in self.features:
            b = card.bins[card.bin_index(values[card.name])]
            points[card.name] = b.points
            bins[card.name] = b.label
            if card.max_points > b.points:
                losses.append((card.max_points - b.points, FEATURES.index(card.name), card.name))
        total = self.base_points + sum(points.values())
        # The biggest losses against the best bin of each feature, in the fixed feature order on ties,
        # so the same input always gives the same reasons in the same order.
        losses.sort(key=lambda item: (-item[0], item[1]))
        reasons = tuple(feature_reason(name) for _, _, name in losses[:4])
        return ScoreResult(total, self.pd_of(total), points, bins, reasons)

    def pd_of(self, score: int) -> Decimal:
        """The probability of going bad implied by a score (odds good:bad = e^((score − offset)/factor))."""
        odds_good = math.exp((score - self.offset) / self.factor)
        return Decimal(repr(1 / (1 + odds_good))).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def parse(raw: dict[str, Any]) -> Scorecard:
    cards = []
    for f in raw["features"]:
        numeric = f["type"] == "numeric"
        bins = tuple(
            Bin(
                label=b["label"], points=int(b["points"]), woe=float(b["woe"]),
                upper=b.get("upper"), values=frozenset(str(v) for v in b.get("values", ())),
            )
            for b in f["bins"]
        )
        cards.append(FeatureCard(f["name"], numeric, bins, int(f.get("default_bin", 0)), max(b.points for b in bins)))
    scaling = raw["scaling"]
    return Scorecard(
        raw["version"], int(raw["base_points"]), float(scaling["offset"]), float(scaling["factor"]), tuple(cards), raw
    )


def artifact_path(version: str) -> Path:
    return MODEL_DIR / f"scorecard-{version}.json"


class UnknownModel(NotFound):
    code = "risk_model_not_found"
    zh = "评分模型版本不存在：{detail}"
    en = "No scorecard model of version {detail}"


@lru_cache(maxsize=8)
def load(version: str = CURRENT_MODEL) -> Scorecard:
    path = artifact_path(version)
    if not path.is_file():
        raise UnknownModel(version)
    return parse(json.loads(path.read_text(encoding="utf-8")))
