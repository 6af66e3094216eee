"""The slow single requests: the till's contract PDF and staff sign-in's password check.

1. Contract PDF: `render_contract` for a 12-month plan, N times in one process (the CJK font is parsed
   once per process and its used glyphs subset into each PDF; `fenqi prepare-fonts` must have run, or the
   full system font is used). Two cases: the same contract again, and every contract with goods named with
   a hanzi no earlier one used (a new set of glyphs each time). Baseline in the same run: a page of Latin
   text with a core font — fpdf2 without CJK.
2. Staff sign-in: one argon2id verification with the production parameters (`fenqi.identity.passwords`,
   OWASP's m = 19 MiB, t = 2, p = 1). Baseline: one SHA-256 of the same password (the rest of sign-in).

Options: --repeat N (default 20). Goals: contract PDF ≤ 200 ms, sign-in ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import replace

from bench.machine import percentile


def _time(fn: Callable[[], object], repeat: int, cpu: list[float] | None = None) -> list[float]:
    out = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - t)
        if cpu is not None:
            cpu.append(time.process_time() - c)
    return out


def _line(label: str, samples: list[float], goal_ms: float, base: list[float], cpu: list[float] | None = None,
          base_cpu: list[float] | None = None) -> None:
    p50, p99 = percentile(samples, 50) * 1e3, percentile(samples, 99) * 1e3
    ratio = percentile(samples, 50) / max(percentile(base, 50), 1e-9)
    cpus = (f"; CPU p50 {percentile(cpu, 50) * 1e3:.1f} ms (baseline {percentile(base_cpu, 50) * 1e3:.1f} ms)"
            if cpu and base_cpu else "")
    print(f"RESULT {label}: p50 {p50:.1f} ms, max {max(samples) * 1e3:.1f} ms, p99 {p99:.1f} ms "
          f"(goal ≤ {goal_ms:.0f} ms: {'met' if p50 <= goal_ms else 'NOT met'}); "
          f"baseline p50 {percentile(base, 50) * 1e3:.2f} ms, ratio {ratio:.1f}×{cpus}")


def _seen(terms: object) -> set[str]:
    return set(str(terms))


def latin_baseline() -> bytes:
    from fpdf import FPDF

    doc = FPDF(format="A4")
    doc.add_page()
    doc.set_font("helvetica", size=10)
    for i in range(60):
        doc.set_x(doc.l_margin)
        doc.multi_cell(0, 6, f"Line {i}: installment {i} of the plan, principal 416.66, interest 50.00")
    return bytes(doc.output())


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench pages")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    os.environ.setdefault("FENQI_ENV", "demo")  # not "test": that one uses the cheapest argon2 parameters
    from fenqi.origination.contract_pdf import render_contract, specimen_terms

    terms = specimen_terms("FQ-BENCH-1")
    t = time.perf_counter()
    first = render_contract(terms)
    print(f"first contract in this process (font parsed): {(time.perf_counter() - t) * 1e3:.0f} ms, "
          f"{len(first) / 1024:.0f} KiB")
    base_cpu: list[float] = []
    base = _time(latin_baseline, args.repeat, base_cpu)
    same_cpu: list[float] = []
    same = _time(lambda: render_contract(terms), args.repeat, same_cpu)
    _line("contract PDF, the same contract again", same, 200, base, same_cpu, base_cpu)
    from fenqi.kit.cjk_pdf import repertoire

    seen = _seen(terms)
    fresh = iter(chr(c) for c in sorted(repertoire()) if c >= 0x4E00 and chr(c) not in seen)  # GB 2312 hanzi
    new_cpu: list[float] = []
    new = _time(lambda: render_contract(replace(terms, goods=f"示例手机 {next(fresh)}")),
                args.repeat, new_cpu)
    _line("contract PDF, a new glyph in every contract", new, 200, base, new_cpu, base_cpu)

    from fenqi.identity import passwords

    passwords._hasher.cache_clear()
    hashed = passwords.hash_password("correct horse battery")
    print(f"argon2 parameters: {hashed.split('$')[3]}")
    check = _time(lambda: passwords.verify_password(hashed, "correct horse battery"), args.repeat)
    sha = _time(lambda: hashlib.sha256(b"correct horse battery").hexdigest(), args.repeat)
    _line("staff sign-in password check", check, 250, sha)
