"""Steps other domains add to close-of-business, registered by `fenqi.wiring.install()`.

Close-of-business is servicing's, but other domains have end-of-day work over the same loans:
collections' reminders and promises, the device lock policy, the daily balance snapshot. They
register a step here instead of editing the close itself:

- a *chunk step* runs inside each chunk's transaction, after servicing's own steps, over the loans
  with ids in `[lo_id, hi_id]` (set-based SQL, like the close itself); it returns a row count;
- a *day step* runs once, in the transaction that finishes the run (after the last chunk), before the
  business date moves past `day`.

Both run in the chunk's or the run's transaction, so a step's writes commit or roll back with the
close: a killed run leaves neither. Steps must be idempotent per (loan, day): a chunk that is retried
after a crash runs them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

ChunkStep = Callable[[Session, date, int, int], int]
DayStep = Callable[[Session, date], None]


@dataclass(frozen=True)
class _Registered:
    name: str
    order: int


_chunk_steps: dict[str, tuple[int, ChunkStep]] = {}
_day_steps: dict[str, tuple[int, DayStep]] = {}


def register_chunk_step(name: str, step: ChunkStep, *, order: int = 100) -> None:
    """Add (or replace, by name) a step run in every chunk's transaction; lower `order` runs first."""
    _chunk_steps[name] = (order, step)


def register_day_step(name: str, step: DayStep, *, order: int = 100) -> None:
    """Add (or replace, by name) a step run once when the day's last chunk is done."""
    _day_steps[name] = (order, step)


def run_chunk_steps(session: Session, day: date, lo_id: int, hi_id: int) -> dict[str, int]:
    """Run every registered chunk step in order; returns each step's row count by name."""
    done: dict[str, int] = {}
    for name, (_, step) in sorted(_chunk_steps.items(), key=lambda kv: (kv[1][0], kv[0])):
        done[name] = step(session, day, lo_id, hi_id)
    return done


def run_day_steps(session: Session, day: date) -> None:
    """Run every registered day step in order."""
    for _, (_, step) in sorted(_day_steps.items(), key=lambda kv: (kv[1][0], kv[0])):
        step(session, day)
