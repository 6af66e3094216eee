"""Run benchmarks: `python -m bench` lists them, `python -m bench NAME [options]` runs one, `all` runs each.

Every module bench/bench_<name>.py has `run(argv: list[str]) -> None`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from bench.machine import describe_machine


def available() -> list[str]:
    return sorted(m.name[6:] for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))


def main(argv: list[str]) -> None:
    names = available()
    if not argv:
        print("benchmarks:", ", ".join(names), "(or: all)")
        return
    print(describe_machine())
    selected = names if argv[0] == "all" else [argv[0].replace("-", "_")]  # shopper-pages: bench_shopper_pages
    for name in selected:
        if name not in names:
            sys.exit(f"unknown benchmark {name!r}; choose from {', '.join(names)}")
        print(f"\n== {name} ==")
        importlib.import_module(f"bench.bench_{name}").run(argv[1:] if argv[0] != "all" else [])


if __name__ == "__main__":
    main(sys.argv[1:])
