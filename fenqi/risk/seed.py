"""Demo data for risk: the rules version stored and active, the bureau emulator, a listed device."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.risk import policy as policies
from fenqi.risk import scorecard
from fenqi.risk.bureau import get_provider
from fenqi.risk.models import RiskListEntry
from fenqi.risk.service import add_to_list

# A (valid) IMEI reported stolen in the demo: an application for this phone is declined.
DEMO_LISTED_IMEI = "352099001761481"


def seed(session: Session) -> list[str]:
    policies.ensure_default(session)
    listed = session.scalar(
        select(RiskListEntry.id).where(RiskListEntry.kind == "device", RiskListEntry.value == DEMO_LISTED_IMEI)
    )
    if listed is None:
        add_to_list(session, kind="device", value=DEMO_LISTED_IMEI, reason="演示：报失设备 / demo: reported stolen")
    active = policies.active_policy(session)
    card = scorecard.load()
    auc = card.raw["metrics"]["test"]["auc"]
    return [
        f"risk rules {active.version} active; scorecard {card.version} (held-out AUC {auc:.4f}); "
        f"credit bureau: {get_provider().name} (deterministic by ID hash); listed device IMEI {DEMO_LISTED_IMEI}",
    ]
