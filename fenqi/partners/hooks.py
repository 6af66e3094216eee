"""Partners' wiring, called once by `fenqi.wiring.install()`: routing asks the registry, and the
nightly close raises licence and contract expiry reminders."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from fenqi.funding.service import register_routing_veto
from fenqi.partners.service import funder_veto, raise_expiry_reminders
from fenqi.servicing.cob_steps import register_day_step


def _reminders(session: Session, day: date) -> None:
    raise_expiry_reminders(session, day)


def install() -> None:
    register_routing_veto(funder_veto)
    register_day_step("partners.expiry_reminders", _reminders)
