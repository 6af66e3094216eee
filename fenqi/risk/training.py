"""Offline training of the scorecard: WOE binning (toad, chi-merge) + logistic regression (scikit-learn).

Run with `fenqi risk train` (needs the `train` extra). It writes the JSON artifact that run-time
scoring reads (bins, WOE, coefficients, points, scaling) and the model card with the held-out AUC
and KS, both measured by the run-time scorer itself so the card describes what production computes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from fenqi.risk import dataset
from fenqi.risk.features import FEATURES, NUMERIC, Value
from fenqi.risk.metrics import auc, ks
from fenqi.risk.monitoring import score_reference
from fenqi.risk.scorecard import CURRENT_MODEL, artifact_path, parse

BASE_SCORE = 600
BASE_ODDS = 50  # good:bad at the base score
PDO = 20  # points to double the odds
MIN_BIN_SHARE = 0.05
MAX_NUMERIC_BINS = 5
REGULARIZATION_C = 1.0
SMOOTHING = 0.5  # added to bad and good counts of a bin so that no WOE is infinite

Progress = Callable[[str], None]


def _fmt(x: float) -> str:
    return f"{x:g}"


def numeric_bins(splits: list[float]) -> list[dict[str, Any]]:
    """Cut points c1 < c2 < … → bins (−∞, c1), [c1, c2), …, [ck, ∞)."""
    bins: list[dict[str, Any]] = []
    lower: float | None = None
    for upper in [*splits, None]:
        if lower is None and upper is not None:
            label = f"< {_fmt(upper)}"
        elif upper is None:
            label = f">= {_fmt(lower)}" if lower is not None else "all"
        else:
            label = f"[{_fmt(lower)}, {_fmt(upper)})" if lower is not None else f"< {_fmt(upper)}"
        bins.append({"label": label, "upper": upper})
        lower = upper
    return bins


def find_bins(train: list[dataset.Row]) -> dict[str, list[dict[str, Any]]]:
    """Chi-merge binning of every feature on the training rows (toad)."""
    import pandas as pd
    import toad

    frame = pd.DataFrame([{**r.features, "bad": int(r.bad)} for r in train])
    combiner = toad.transform.Combiner()
    combiner.fit(
        frame, y="bad", method="chi", min_samples=MIN_BIN_SHARE, n_bins=MAX_NUMERIC_BINS, constraint_mode="all"
    )
    exported = combiner.export()
    bins: dict[str, list[dict[str, Any]]] = {}
    for name in FEATURES:
        if name in NUMERIC:
            observed = [(float(r.features[name]), r.bad) for r in train]
            splits = monotone_splits([float(c) for c in exported[name]], observed)
            bins[name] = numeric_bins(splits)
        else:
            groups = [sorted(str(v) for v in group) for group in exported[name]]
            bins[name] = [{"label": ", ".join(g), "values": g} for g in groups]
    return bins


def monotone_splits(splits: list[float], points: list[tuple[float, bool]]) -> list[float]:
    """Merge neighbouring bins until the bad rate only rises or only falls along the number line, so
    that more of something never scores better by chance (pool-adjacent-violators on the cut points)."""
    splits = list(splits)

    def rates() -> list[float]:
        counts = [[0, 0] for _ in range(len(splits) + 1)]
        for value, bad in points:
            counts[sum(1 for c in splits if value >= c)][int(bad)] += 1
        return [(bad + SMOOTHING) / (good + bad + 2 * SMOOTHING) for good, bad in counts]

    first = rates()
    rising = first[-1] >= first[0]
    while splits:
        r = rates()
        violation = next((i for i in range(len(r) - 1) if (r[i + 1] < r[i]) == rising and r[i + 1] != r[i]), None)
        if violation is None:
            break
        del splits[violation]
    return splits


def bin_of(spec: list[dict[str, Any]], value: Value, numeric: bool) -> int:
    if numeric:
        return sum(1 for b in spec if b["upper"] is not None and float(value) >= b["upper"])
    for i, b in enumerate(spec):
        if str(value) in b["values"]:
            return i
    raise ValueError(f"value {value!r} in no bin")


def add_woe(bins: dict[str, list[dict[str, Any]]], train: list[dataset.Row]) -> None:
    """WOE = ln(share of bads in the bin / share of goods in the bin): higher means riskier."""
    n_bad = sum(r.bad for r in train)
    n_good = len(train) - n_bad
    for name, spec in bins.items():
        counts = [[0, 0] for _ in spec]
        for r in train:
            counts[bin_of(spec, r.features[name], name in NUMERIC)][int(r.bad)] += 1
        for b, (good, bad) in zip(spec, counts, strict=True):
            b["count"], b["bad"] = good + bad, bad
            b["woe"] = math.log(((bad + SMOOTHING) / n_bad) / ((good + SMOOTHING) / n_good))
        if name not in NUMERIC:
            worst = max(range(len(spec)), key=lambda i: spec[i]["woe"])
            spec[worst]["default"] = True


def information_value(spec: list[dict[str, Any]], n_bad: int, n_good: int) -> float:
    total = 0.0
    for b in spec:
        bad_share = (b["bad"] + SMOOTHING) / n_bad
        good_share = (b["count"] - b["bad"] + SMOOTHING) / n_good
        total += (bad_share - good_share) * b["woe"]
    return total


def fit(bins: dict[str, list[dict[str, Any]]], train: list[dataset.Row]) -> tuple[float, dict[str, float]]:
    """Logistic regression on WOE; features whose coefficient comes out ≤ 0 (against their own WOE,
    a sign of collinearity) are dropped and the model refitted, so every point table is monotone in risk."""
    from sklearn.linear_model import LogisticRegression

    names = list(FEATURES)
    y = [int(r.bad) for r in train]
    while True:
        x = [[_woe(bins, n, r.features[n]) for n in names] for r in train]
        model = LogisticRegression(C=REGULARIZATION_C, max_iter=1000).fit(x, y)
        coefs = dict(zip(names, (float(c) for c in model.coef_[0]), strict=True))
        wrong = [n for n in names if coefs[n] <= 0]
        if not wrong:
            return float(model.intercept_[0]), coefs
        names.remove(min(wrong, key=lambda n: coefs[n]))


def _woe(bins: dict[str, list[dict[str, Any]]], name: str, value: Value) -> float:
    return float(bins[name][bin_of(bins[name], value, name in NUMERIC)]["woe"])


def build_artifact(
    bins: dict[str, list[dict[str, Any]]], intercept: float, coefs: dict[str, float], train: list[dataset.Row],
) -> dict[str, Any]:
    factor = PDO / math.log(2)
    offset = BASE_SCORE - factor * math.log(BASE_ODDS)
    n_bad = sum(r.bad for r in train)
    n_good = len(train) - n_bad
    features = []
    for name in FEATURES:
        if name not in coefs:
            continue
        spec = bins[name]
        out_bins = []
        for b in spec:
            out: dict[str, Any] = {k: b[k] for k in ("label", "upper", "values") if k in b}
            out.update(
                count=b["count"], bad_rate=round(b["bad"] / b["count"], 4) if b["count"] else None,
                woe=round(b["woe"], 6), points=round(-factor * coefs[name] * b["woe"]),
            )
            out_bins.append(out)
        default = next((i for i, b in enumerate(spec) if b.get("default")), 0)
        features.append({
            "name": name, "type": "numeric" if name in NUMERIC else "categorical",
            "coefficient": round(coefs[name], 6), "iv": round(information_value(spec, n_bad, n_good), 4),
            "default_bin": default, "bins": out_bins,
        })
    return {
        "version": CURRENT_MODEL,
        "kind": "woe-logistic-scorecard",
        "trained_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "scaling": {
            "base_score": BASE_SCORE, "base_odds": BASE_ODDS, "pdo": PDO,
            "factor": round(factor, 6), "offset": round(offset, 6),
        },
        "intercept": round(intercept, 6),
        "base_points": round(offset - factor * intercept),
        "features": features,
        "training": {
            "binning": f"toad {package_version('toad')} chi-merge, min bin share {MIN_BIN_SHARE}, "
                       f"at most {MAX_NUMERIC_BINS} bins for numbers",
            "regression": f"scikit-learn {package_version('scikit-learn')} LogisticRegression, "
                          f"L2, C={REGULARIZATION_C}",
            "woe_smoothing": SMOOTHING,
        },
    }


def evaluate(artifact: dict[str, Any], rows: list[dataset.Row]) -> dict[str, float]:
    card = parse(artifact)
    scores = [card.score(r.features).score for r in rows]
    bad = [r.bad for r in rows]
    return {"n": len(rows), "bad": sum(bad), "auc": round(auc(scores, bad), 4), "ks": round(ks(scores, bad), 4)}


def reference(artifact: dict[str, Any], rows: list[dataset.Row]) -> dict[str, Any]:
    """What monitoring compares recent applications with: the training split's score bands (the
    features' bin counts are already in the artifact)."""
    card = parse(artifact)
    return score_reference(card, [card.score(r.features).score for r in rows])


def train(data: Path | None = None, progress: Progress = lambda _: None) -> dict[str, Any]:
    path = data or dataset.dataset_path()
    progress("reading data")
    rows = dataset.load_rows(path)
    train_rows, test_rows = dataset.split(rows)
    progress("binning")
    bins = find_bins(train_rows)
    add_woe(bins, train_rows)
    progress("fitting")
    intercept, coefs = fit(bins, train_rows)
    artifact = build_artifact(bins, intercept, coefs, train_rows)
    artifact["dataset"] = {
        "package": dataset.DATA_PACKAGE, "package_version": package_version(dataset.DATA_PACKAGE),
        "file": dataset.DATA_FILE, "sha256": dataset.file_sha256(path), "rows": len(rows),
        "bad": sum(r.bad for r in rows),
        "split": {"seed": dataset.SPLIT_SEED, "test_share": dataset.TEST_SHARE, "stratified": True},
    }
    progress("measuring")
    artifact["metrics"] = {"train": evaluate(artifact, train_rows), "test": evaluate(artifact, test_rows)}
    artifact["reference"] = reference(artifact, train_rows)
    return artifact


def write_artifact(artifact: dict[str, Any], path: Path | None = None) -> Path:
    target = path or artifact_path(artifact["version"])
    target.write_text(json.dumps(artifact, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return target
