"""Who may change a phone's lock state through the API: a collector only the phones of loans whose
collection case is assigned to them (another's answers 404 like a device that does not exist, changes
nothing and is not audited); admin any. Real sale, real close-of-business, real payments, real HTTP."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.collections import cases
from fenqi.identity.models import AuditEntry
from fenqi.identity.service import create_api_key, create_user
from fenqi.servicing.service import payoff_quote
from tests.collections.cases_support import case_of
from tests.collections.support import FIRST_DUE, close_through, sold
from tests.devices.support import pay_loan, the_device
from tests.origination.world import World


def _staff(session: Session, role: str, name: str) -> tuple[int, dict[str, str]]:
    user = create_user(session, role=role, display_name=name)
    _, key = create_api_key(session, user, name="test")
    return user.id, {"Authorization": f"Bearer {key}"}


def _audited(session: Session, action: str, device_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.subject == f"device:{device_id}")) or 0)


def test_a_collector_acts_only_on_the_phones_of_their_own_cases(
    client: TestClient, session: Session, world: World,
) -> None:
    a_id, collector_a = _staff(session, "collector", "催收员甲")
    b_id, collector_b = _staff(session, "collector", "催收员乙")
    _, admin = _staff(session, "admin", "管理员")
    app = sold(session, world)
    close_through(session, FIRST_DUE + timedelta(days=1))  # past due: close-of-business opens a case
    case = case_of(session, app.loan_id)
    assert case is not None
    cases.assign(session, case.id, b_id, {a_id: "甲", b_id: "乙"})
    device = the_device(session, app.loan_id)
    state = device.state
    assert state != "released"

    # Collector A on collector B's case: refused as if the device did not exist; nothing changes.
    missing = client.post("/api/v1/devices/999999999/release", json={"note": "x"}, headers=collector_a)
    r = client.post(f"/api/v1/devices/{device.id}/release", json={"note": "释放"}, headers=collector_a)
    assert (r.status_code, missing.status_code) == (404, 404)
    assert r.json()["error"] == missing.json()["error"] == "not_found"
    assert r.json()["message"] == f"未找到设备 {device.id}，或该设备不属于您负责的催收案件"
    en = client.post(f"/api/v1/devices/{device.id}/release", json={"note": "x"},
                     headers={**collector_a, "Accept-Language": "en"})
    assert en.json()["message"] == f"Device {device.id} not found, or not in one of your collection cases"
    assert client.post(f"/api/v1/devices/{device.id}/enrol", headers=collector_a).status_code == 404
    assert the_device(session, app.loan_id).state == state
    assert _audited(session, "device.released", device.id) == 0

    # The payoff releases the phone with a window to cancel; A still may not cancel it, B may.
    pay_loan(session, app.loan_id, payoff_quote(session, app.loan_id).total, purpose="payoff")
    assert the_device(session, app.loan_id).state == "released"
    r = client.post(f"/api/v1/devices/{device.id}/release/cancel", json={"note": "撤销"}, headers=collector_a)
    assert r.status_code == 404, r.text
    assert the_device(session, app.loan_id).state == "released"
    assert _audited(session, "device.release_cancelled", device.id) == 0
    r = client.post(f"/api/v1/devices/{device.id}/release/cancel", json={"note": "付款被撤销"}, headers=collector_b)
    assert r.status_code == 200 and r.json()["state"] == "normal", r.text
    assert _audited(session, "device.release_cancelled", device.id) == 1

    # A manual release: refused to A, allowed to admin (who sees every case).
    r = client.post(f"/api/v1/devices/{device.id}/release", json={"note": "释放"}, headers=collector_a)
    assert r.status_code == 404 and the_device(session, app.loan_id).state == "normal"
    assert _audited(session, "device.released", device.id) == 0
    r = client.post(f"/api/v1/devices/{device.id}/release", json={"note": "核实后释放"}, headers=admin)
    assert r.status_code == 200 and r.json()["state"] == "released", r.text
    assert _audited(session, "device.released", device.id) == 1


def test_a_collector_may_release_the_phone_of_their_own_case(
    client: TestClient, session: Session, world: World,
) -> None:
    a_id, collector_a = _staff(session, "collector", "催收员甲")
    app = sold(session, world)
    close_through(session, FIRST_DUE + timedelta(days=1))
    case = case_of(session, app.loan_id)
    assert case is not None
    cases.assign(session, case.id, a_id, {a_id: "甲"})
    device = the_device(session, app.loan_id)
    r = client.post(f"/api/v1/devices/{device.id}/release", json={"note": "核实后释放"}, headers=collector_a)
    assert r.status_code == 200 and r.json()["state"] == "released", r.text
    assert _audited(session, "device.released", device.id) == 1

    # Back to the pool: nobody's case, so no collector may act on it any more.
    cases.assign(session, case.id, None, {a_id: "甲"})
    r = client.post(f"/api/v1/devices/{device.id}/release/cancel", json={"note": "撤销"}, headers=collector_a)
    assert r.status_code == 404
