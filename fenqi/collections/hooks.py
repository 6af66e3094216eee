"""Collections' part of start-up wiring, called by `fenqi.wiring.install()` (never on import): the
close-of-business steps that schedule reminders and notices, open and refresh cases, decide promises and
close cases, a payment that cures or pays off a loan closing its case at once, and the hardship ports:
a paid settlement offer closes the loan's case as settled, and a
shopper's hardship request follows the arrangement proposed for it."""

from __future__ import annotations

from fenqi.collections.cases import close_after_payment, close_for_settlement, cob_cases
from fenqi.collections.hardship_requests import follow_arrangement
from fenqi.collections.promises import decide
from fenqi.collections.reminders_cob import schedule_chunk, schedule_payoffs
from fenqi.servicing import hardship, repayment
from fenqi.servicing.cob_steps import register_chunk_step, register_day_step


def install() -> None:
    register_chunk_step("collections.reminders", schedule_chunk, order=50)
    register_day_step("collections.payoff_notices", schedule_payoffs, order=50)
    register_chunk_step("collections.cases", cob_cases, order=60)
    register_day_step("collections.promises_and_closing", decide, order=60)
    hardship.on_settled(close_for_settlement)  # in the payment's transaction: servicing knows no cases
    hardship.on_arrangement(follow_arrangement)  # the shopper's hardship request follows its arrangement
    repayment.on_repaid(close_after_payment)  # a cure or payoff closes the case at once, not at night
