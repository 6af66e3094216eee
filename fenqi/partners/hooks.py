"""Partners' wiring, called once by `fenqi.wiring.install()`: routing asks the registry, and the
nightly close raises licence and contract expiry reminders."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from fenqi.funding.service import register_routing_veto
from fenqi.partners.pilots import active_channel_pilot, sync_routing
from fenqi.partners.service import funder_veto, raise_expiry_reminders
from fenqi.payments.routing import register_channel_pilot
from fenqi.servicing.cob_steps import register_day_step


def _reminders(session: Session, day: date) -> None:
    raise_expiry_reminders(session, day)


def _pilot_period(session: Session, day: date) -> None:
    sync_routing(session, day + timedelta(days=1))  # the business day that opens next


def install() -> None:
    register_routing_veto(funder_veto)
    register_channel_pilot(active_channel_pilot)  # a channel pilot orders the cashier's channels
    register_day_step("partners.expiry_reminders", _reminders)
    register_day_step("partners.pilot_period", _pilot_period)  # a pilot routes only within its period
