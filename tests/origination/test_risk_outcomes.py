"""Origination's port for risk monitoring: a signed application's loan, bad when 30+ days past due."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from fenqi.risk import monitoring
from fenqi.servicing.models import Loan
from tests.origination.test_signing import approved, contract, sign
from tests.origination.world import World


def test_signed_applications_report_their_loans_outcome(
    client: TestClient, session: Session, world: World, clerk: dict[str, str]
) -> None:
    app_id = approved(client, world, clerk)
    doc = contract(client, app_id, clerk)
    loan_id = sign(client, app_id, clerk, doc["sha256"], world.devices[2]).json()["loan_id"]
    port = monitoring._outcomes[0]
    assert port(session, [app_id, 10**12]) == {app_id: False}  # an unknown application is left out
    session.execute(update(Loan).where(Loan.id == loan_id).values(dpd=29))
    assert port(session, [app_id]) == {app_id: False}
    session.execute(update(Loan).where(Loan.id == loan_id).values(dpd=30))
    assert port(session, [app_id]) == {app_id: True}
    # The monitoring report counts it in its grade's calibration.
    cells = monitoring.last_days(session, 30).calibration
    assert sum(c.loans for c in cells) == 1 and sum(c.bad for c in cells) == 1
