"""What machine a benchmark ran on, printed with every result (machines here are noisy)."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence


def describe_machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"machine: {cpu}, {os.cpu_count()} CPUs{mem}, Python {platform.python_version()}, {platform.system()}"


def percentile(samples: Sequence[float], q: float) -> float:
    """q in 0..100 over latency samples (seconds, timing only — never money)."""
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(label: str, samples: Sequence[float]) -> str:
    """ops/s, p50 and p99 of per-operation timings."""
    mean = statistics.fmean(samples)
    return (
        f"{label}: {1 / mean:,.0f} ops/s, p50 {percentile(samples, 50) * 1e3:.3f} ms, "
        f"p99 {percentile(samples, 99) * 1e3:.3f} ms (n={len(samples)})"
    )
