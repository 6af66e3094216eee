"""Background jobs of after-sales (fenqi.kit.jobs): returns whose refunds are not all through yet are run
again every few minutes (a refund the channel refused is retried under its next attempt, one not answered
is asked again with the same number), so a refund that failed is retried until it succeeds and never lost.
Repair deadlines and loaner offers are day work: a close-of-business step (`hooks.install`)."""

from __future__ import annotations

from fenqi.aftersales.returns import resume_all
from fenqi.kit.jobs import job


@job("aftersales.resume_returns", queueing_lock="aftersales.resume_returns", lock="aftersales.resume_returns",
     cron="*/5 * * * *")
def resume_returns() -> dict[str, int]:
    """Every 5 minutes: finish the unfinished returns (each in its own transaction)."""
    return resume_all()
