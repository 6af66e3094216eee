"""Statistics for the scorecard and pilots: percentiles, Wilson intervals for rates, bootstrap intervals for
times. Statistics, not money: floats are fine here; every result is rounded only for display."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in (0, 100]): the smallest value with at least q% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


@dataclass(frozen=True, slots=True)
class Interval:
    estimate: float | None
    low: float | None
    high: float | None
    n: int


def wilson(successes: int, n: int, z: float = Z95) -> Interval:
    """The Wilson score interval for a proportion (95% by default)."""
    if n == 0:
        return Interval(None, None, None, 0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(p, max(centre - half, 0.0), min(centre + half, 1.0), n)


def rate_difference(a: Interval, b: Interval) -> Interval:
    """Newcombe's hybrid score interval for a − b from the two Wilson intervals (method 10)."""
    if a.estimate is None or b.estimate is None or a.low is None or b.low is None or a.high is None \
            or b.high is None:
        return Interval(None, None, None, 0)
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return Interval(d, low, high, a.n + b.n)


Statistic = Callable[[Sequence[float]], float | None]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def bootstrap(values: Sequence[float], stat: Statistic = median, *, rounds: int = 2000, seed: int = 7) -> Interval:
    """A percentile bootstrap 95% interval for `stat` (seeded: the same data gives the same interval)."""
    if not values:
        return Interval(None, None, None, 0)
    rng = random.Random(seed)
    n = len(values)
    draws = sorted(v for v in (stat([values[rng.randrange(n)] for _ in range(n)]) for _ in range(rounds))
                   if v is not None)
    return Interval(stat(values), draws[int(0.025 * (rounds - 1))], draws[int(0.975 * (rounds - 1))], n)


def bootstrap_difference(a: Sequence[float], b: Sequence[float], stat: Statistic = median, *, rounds: int = 2000,
                         seed: int = 7) -> Interval:
    """A percentile bootstrap 95% interval for stat(a) − stat(b), resampling each group independently."""
    if not a or not b:
        return Interval(None, None, None, len(a) + len(b))
    rng = random.Random(seed)
    diffs = []
    for _ in range(rounds):
        sa = stat([a[rng.randrange(len(a))] for _ in range(len(a))])
        sb = stat([b[rng.randrange(len(b))] for _ in range(len(b))])
        if sa is not None and sb is not None:
            diffs.append(sa - sb)
    diffs.sort()
    ea, eb = stat(a), stat(b)
    estimate = ea - eb if ea is not None and eb is not None else None
    return Interval(estimate, diffs[int(0.025 * (len(diffs) - 1))], diffs[int(0.975 * (len(diffs) - 1))],
                    len(a) + len(b))


def significant(diff: Interval) -> bool | None:
    """Whether the 95% interval of a difference excludes zero (None: not enough data)."""
    if diff.low is None or diff.high is None:
        return None
    return diff.low > 0 or diff.high < 0


mean = _mean
