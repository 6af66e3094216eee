"""Collections' part of start-up wiring, called by `fenqi.wiring.install()` (never on import): the
close-of-business steps that schedule reminders and notices."""

from __future__ import annotations

from fenqi.collections.reminders_cob import schedule_chunk, schedule_payoffs
from fenqi.servicing.cob_steps import register_chunk_step, register_day_step


def install() -> None:
    register_chunk_step("collections.reminders", schedule_chunk, order=50)
    register_day_step("collections.payoff_notices", schedule_payoffs, order=50)
