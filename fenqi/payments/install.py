"""Payments' own wiring, run once at start-up by `fenqi.wiring.install()`: the steps behind the inbox
(refund events, auto-debit's follow-up of a failed debit) registered with it, so that the inbox imports
none of the modules that feed it."""

from __future__ import annotations

from fenqi.payments import inbox
from fenqi.payments.autodebit import after_failure
from fenqi.payments.refunds import on_refund_event


def install() -> None:
    inbox.register_refund_handler(on_refund_event)
    inbox.register_failure_handler(after_failure)
