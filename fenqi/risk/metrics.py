"""Discrimination measures of a score, in plain Python (the model card's figures and the test that
recomputes them use the same code as each other, and no training libraries)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby


def auc(scores: Sequence[float], bad: Sequence[bool]) -> float:
    """Probability that a random good loan scores above a random bad one (ties count one half).

    Scores are "higher is better" (points); `bad` marks the loans that went bad.
    """
    pairs = sorted(zip(scores, bad, strict=True), key=lambda p: p[0])
    n_bad = sum(1 for _, b in pairs if b)
    n_good = len(pairs) - n_bad
    if not n_bad or not n_good:
        raise ValueError("AUC needs both good and bad loans")
    # Mann–Whitney U over the goods' mid-ranks.
    rank_sum, rank = 0.0, 0
    for _, group in groupby(pairs, key=lambda p: p[0]):
        items = list(group)
        mid = rank + (len(items) + 1) / 2
        rank_sum += mid * sum(1 for _, b in items if not b)
        rank += len(items)
    return (rank_sum - n_good * (n_good + 1) / 2) / (n_good * n_bad)


def ks(scores: Sequence[float], bad: Sequence[bool]) -> float:
    """Kolmogorov–Smirnov: the largest gap between the cumulative shares of bads and goods by score."""
    pairs = sorted(zip(scores, bad, strict=True), key=lambda p: p[0])
    n_bad = sum(1 for _, b in pairs if b)
    n_good = len(pairs) - n_bad
    if not n_bad or not n_good:
        raise ValueError("KS needs both good and bad loans")
    best, cum_bad, cum_good = 0.0, 0, 0
    for _, group in groupby(pairs, key=lambda p: p[0]):
        for _, b in group:
            if b:
                cum_bad += 1
            else:
                cum_good += 1
        best = max(best, abs(cum_bad / n_bad - cum_good / n_good))
    return best
