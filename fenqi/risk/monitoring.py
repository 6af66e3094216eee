"""Watching the scorecard in use: is today's population still the one it was trained on, and do its
grades still go bad at the rates it predicts?

- **Population stability (PSI)** of the score and of every scorecard feature, between the training
  split (the reference stored in the artifact: each feature's bin counts, and the training scores'
  decile bands) and the decisions of a recent window. PSI = Σ (a − e) · ln(a / e) over the bins, with
  empty bins floored at 0.0001 so one empty bin does not make it infinite. Below 0.10 is stable,
  0.10–0.25 is worth watching, above 0.25 means the population has shifted (the usual thresholds).
- **Calibration** by booking month and grade: of the approved decisions that became loans, the share
  that went bad (30+ days past due now, or written off) against the mean probability of default the
  scorecard gave them. The expected band is that mean ± 1.96 standard errors (a binomial proportion);
  a grade whose observed rate leaves it — with at least `MIN_LOANS` loans — raises an alert.

Outcomes come from the loans, which risk does not own: origination registers the port that maps an
application to whether its loan went bad (`register_outcomes`, wired by `fenqi.wiring.install()`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.risk.engine import features_of
from fenqi.risk.models import RiskDecision
from fenqi.risk.rules import Facts
from fenqi.risk.schemas import RiskInput
from fenqi.risk.scorecard import Scorecard, load

PSI_WATCH = 0.10
PSI_ALERT = 0.25
FLOOR = 0.0001
MIN_LOANS = 30
Z = 1.96
SHANGHAI = ZoneInfo("Asia/Shanghai")

# application id → True (went bad) / False (did not); applications without a loan are left out.
Outcomes = Callable[[Session, Sequence[int]], dict[int, bool]]
_outcomes: list[Outcomes] = []


def register_outcomes(port: Outcomes) -> None:
    """Set the port that tells which applications' loans went bad (origination's, via wiring)."""
    _outcomes[:] = [port]


def _no_outcomes(session: Session, application_ids: Sequence[int]) -> dict[int, bool]:
    return {}


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of two distributions over the same bins (counts or shares)."""
    if len(expected) != len(actual) or not expected:
        raise ValueError("PSI needs two distributions over the same bins")
    e_total, a_total = sum(expected), sum(actual)
    if e_total <= 0 or a_total <= 0:
        raise ValueError("PSI needs a non-empty distribution on both sides")
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e_share, a_share = max(e / e_total, FLOOR), max(a / a_total, FLOOR)
        total += (a_share - e_share) * math.log(a_share / e_share)
    return total


def level(value: float) -> str:
    return "alert" if value > PSI_ALERT else "watch" if value > PSI_WATCH else "stable"


def score_reference(card: Scorecard, scores: Sequence[int]) -> dict[str, Any]:
    """The reference for the score's PSI: decile edges of the training scores and each band's count.

    Written into the artifact by `fenqi risk train`; `band_of` puts a score in its band."""
    ordered = sorted(scores)
    n = len(ordered)
    edges = sorted({ordered[min(n - 1, (n * k) // 10)] for k in range(1, 10)})
    counts = [0] * (len(edges) + 1)
    for s in ordered:
        counts[band_of(edges, s)] += 1
    return {"split": "train", "n": n, "score_edges": edges, "score_counts": counts}


def band_of(edges: Sequence[int], score: int) -> int:
    """Index of the band: band i holds scores in [edges[i-1], edges[i])."""
    return sum(1 for e in edges if score >= e)


@dataclass(frozen=True, slots=True)
class Drift:
    name: str  # "score" or a feature's name
    psi: float
    level: str
    bins: list[tuple[str, float, float]]  # (label, expected share, actual share)


@dataclass(frozen=True, slots=True)
class Calibration:
    month: str  # YYYY-MM of the decision, Asia/Shanghai
    grade: str
    loans: int  # approved decisions that became loans
    bad: int
    observed: float | None
    predicted: float  # mean probability of default given by the scorecard
    band: tuple[float, float]
    outside: bool  # observed left the band with at least MIN_LOANS loans


@dataclass
class Report:
    model_version: str
    since: date
    until: date
    decisions: int
    score: Drift | None
    features: list[Drift] = field(default_factory=list)
    calibration: list[Calibration] = field(default_factory=list)

    @property
    def alerts(self) -> list[tuple[str, str]]:
        """(what, detail) of every figure past its threshold: PSI > 0.25, a grade out of its band."""
        found = [(d.name, f"{d.psi:.3f}") for d in ([self.score] if self.score else []) + self.features
                 if d.level == "alert"]
        found += [(f"grade:{c.grade}:{c.month}", f"{c.observed:.3f}") for c in self.calibration
                  if c.outside and c.observed is not None]
        return found


def _window(since: date, until: date) -> tuple[datetime, datetime]:
    """Local (Asia/Shanghai) days [since, until] as UTC instants."""
    lo = datetime.combine(since, time(), SHANGHAI).astimezone(UTC)
    hi = datetime.combine(until + timedelta(days=1), time(), SHANGHAI).astimezone(UTC)
    return lo, hi


def _drifts(card: Scorecard, rows: list[Any]) -> tuple[Drift | None, list[Drift]]:
    if not rows:
        return None, []
    features = []
    values = [features_of(RiskInput.model_validate(r.inputs), Facts.model_validate(r.facts)) for r in rows]
    for feature_card, raw in zip(card.features, card.raw["features"], strict=True):
        expected = [float(b["count"]) for b in raw["bins"]]
        actual = [0.0] * len(expected)
        for v in values:
            actual[feature_card.bin_index(v[feature_card.name])] += 1
        features.append(_drift(feature_card.name, [b["label"] for b in raw["bins"]], expected, actual))
    ref = card.raw.get("reference")
    if not ref:
        return None, features
    edges = ref["score_edges"]
    actual = [0.0] * (len(edges) + 1)
    for r in rows:
        actual[band_of(edges, r.score)] += 1
    labels = [f"< {edges[0]}"] + [f"{lo}–{hi - 1}" for lo, hi in pairwise(edges)] + [
        f"≥ {edges[-1]}"
    ]
    return _drift("score", labels, [float(c) for c in ref["score_counts"]], actual), features


def _drift(name: str, labels: list[str], expected: list[float], actual: list[float]) -> Drift:
    value = psi(expected, actual)
    e_total, a_total = sum(expected), sum(actual)
    shares = [(lbl, e / e_total, a / a_total) for lbl, e, a in zip(labels, expected, actual, strict=True)]
    return Drift(name, value, level(value), shares)


def _calibration(session: Session, rows: list[Any]) -> list[Calibration]:
    approved = [r for r in rows if r.grade and r.application_id is not None and
                (r.outcome == "approve" or r.review_status == "approved")]
    port = _outcomes[0] if _outcomes else _no_outcomes
    outcomes = port(session, [r.application_id for r in approved])
    cells: dict[tuple[str, str], list[tuple[bool, float]]] = defaultdict(list)
    for r in approved:
        if r.application_id in outcomes:
            month = r.decided_at.astimezone(SHANGHAI).strftime("%Y-%m")
            cells[(month, r.grade)].append((outcomes[r.application_id], float(r.probability_of_default)))
    result = []
    for (month, grade), items in sorted(cells.items()):
        n, bad = len(items), sum(1 for b, _ in items if b)
        p = sum(pd for _, pd in items) / n
        half = Z * math.sqrt(p * (1 - p) / n)
        observed = bad / n
        band = (max(0.0, p - half), min(1.0, p + half))
        result.append(Calibration(month, grade, n, bad, observed, p, band,
                                  n >= MIN_LOANS and not band[0] <= observed <= band[1]))
    return result


def monitor(session: Session, *, since: date, until: date, calibration_since: date | None = None) -> Report:
    """PSI of the decisions made in [since, until] (local days) against the training reference, and
    calibration by month and grade of the decisions since `calibration_since` (default a year back)."""
    card = load()
    lo, hi = _window(since, until)
    cols = (RiskDecision.id, RiskDecision.inputs, RiskDecision.facts, RiskDecision.score, RiskDecision.grade,
            RiskDecision.outcome, RiskDecision.review_status, RiskDecision.application_id,
            RiskDecision.probability_of_default, RiskDecision.decided_at)
    recent = session.execute(
        select(*cols).where(RiskDecision.model_version == card.version, RiskDecision.decided_at >= lo,
                            RiskDecision.decided_at < hi, RiskDecision.training.is_(False))
    ).all()
    score, features = _drifts(card, list(recent))
    c_lo, _ = _window(calibration_since or until - timedelta(days=365), until)
    older = session.execute(
        select(*cols).where(RiskDecision.model_version == card.version, RiskDecision.decided_at >= c_lo,
                            RiskDecision.decided_at < hi, RiskDecision.training.is_(False))
    ).all()
    return Report(card.version, since, until, len(recent), score, features, _calibration(session, list(older)))



def to_json(report: Report) -> dict[str, Any]:
    def drift(d: Drift) -> dict[str, Any]:
        return {"name": d.name, "psi": round(d.psi, 4), "level": d.level,
                "bins": [{"label": lbl, "expected": round(e, 4), "actual": round(a, 4)} for lbl, e, a in d.bins]}

    return {
        "model_version": report.model_version, "since": report.since.isoformat(), "until": report.until.isoformat(),
        "decisions": report.decisions, "score": drift(report.score) if report.score else None,
        "features": [drift(d) for d in report.features],
        "calibration": [
            {"month": c.month, "grade": c.grade, "loans": c.loans, "bad": c.bad,
             "observed": None if c.observed is None else round(c.observed, 4), "predicted": round(c.predicted, 4),
             "band_low": round(c.band[0], 4), "band_high": round(c.band[1], 4), "outside": c.outside}
            for c in report.calibration
        ],
        "alerts": [{"what": w, "value": v} for w, v in report.alerts],
    }


def last_days(session: Session, days: int) -> Report:
    """The report for the last `days` local days up to today (Asia/Shanghai)."""
    today = datetime.now(SHANGHAI).date()
    return monitor(session, since=today - timedelta(days=days - 1), until=today)
