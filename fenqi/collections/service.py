"""Collections, the port other domains call.

    from fenqi.collections.service import queue_notice, record_call_attempt

    queue_notice(session, loan_id, "lock_warning", {"lock_date": "12月5日"})  # the device lock's warning
    record_call_attempt(session, loan_id)  # before a collector's call is logged; raises past the cap
    loan_assigned_to(session, loan_id, user_id)  # may this collector act on the loan (its phone)?

Reminders and notices are scheduled by close-of-business (registered by fenqi.collections.hooks) and
sent by the outbox under the contact rules of fenqi.collections.reminders.
"""

from __future__ import annotations

from fenqi.collections.cases import loan_assigned_to
from fenqi.collections.errors import CallCapReached, QuietHours, ThirdPartyContact, UnknownNoticeKind
from fenqi.collections.reminders import (
    DispatchReport,
    dispatch,
    preference,
    queue_notice,
    record_call_attempt,
    set_preferences,
)
from fenqi.collections.reminders_templates import KINDS, seed_templates
from fenqi.collections.reminders_views import LoanMessage, loan_messages

__all__ = [
    "KINDS",
    "CallCapReached",
    "DispatchReport",
    "LoanMessage",
    "QuietHours",
    "ThirdPartyContact",
    "UnknownNoticeKind",
    "dispatch",
    "loan_assigned_to",
    "loan_messages",
    "preference",
    "queue_notice",
    "record_call_attempt",
    "seed_templates",
    "set_preferences",
]
