"""A financed phone through its life under the lock: registered at handover, enrolled, reminded, warned,
locked at 7 days past due (not before 24 h after the warning), unlocked by a payment at the next
check-in (with an unlock push at once), released on payoff (after the cancel window), and the
returned or exchanged phone released. Real sale, real close-of-business, real payments, real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from fenqi.collections.models_reminders import Reminder
from fenqi.devices import service
from fenqi.devices.policy import LockState
from fenqi.kit.db import utcnow
from fenqi.servicing.service import amount_due, get_loan, payoff_quote
from tests.collections.support import FIRST_DUE, close_through, sold
from tests.conftest import IS_POSTGRES
from tests.devices.support import age_warning, checkin, enrol, events, pay_loan, state_of, the_device
from tests.origination.world import World


def _pushes_queued(session: Session) -> int:
    if IS_POSTGRES:
        return int(session.scalar(text(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'devices.push_unlock'")) or 0)
    return sum(1 for j in session.info.get("fenqi.jobs", []) if j.name == "devices.push_unlock")


def test_warned_locked_unlocked_released(
    client: TestClient, session: Session, world: World, auth_headers: Callable[..., dict[str, str]],
) -> None:
    app = sold(session, world)
    device = the_device(session, app.loan_id)
    assert device.state == LockState.NORMAL and device.lock_after_dpd == 7
    assert events(session, device) == [("state", "normal", "handover")]
    token = enrol(client, auth_headers("clerk", world.merchant_id), device.id)
    assert device.token_sha256 and token not in device.token_sha256  # only the hash is kept
    assert state_of(client, token, device.imei) == "normal"

    close_through(session, FIRST_DUE + timedelta(days=4))  # 5 days past due: a reminder, no warning yet
    device = the_device(session, app.loan_id)
    assert (get_loan(session, app.loan_id).dpd, device.state, device.warned_at) == (5, "reminder", None)
    _, body = checkin(client, token, device.imei)
    assert body["payload"]["state"] == "reminder" and "逾期5天" in body["payload"]["message_zh"]

    close_through(session, FIRST_DUE + timedelta(days=5))  # 6 dpd: the lock warning is queued
    device = the_device(session, app.loan_id)
    assert device.warned_at is not None and device.state == "reminder"
    assert device.lock_allowed_at == device.warned_at + timedelta(hours=24)
    notices = session.scalars(select(Reminder).where(Reminder.loan_id == app.loan_id,
                                                     Reminder.kind == "lock_warning")).all()
    assert len(notices) == 1  # collections' notice, sent under its quiet hours and caps
    assert notices[0].extra and "lock_date" in notices[0].extra

    close_through(session, FIRST_DUE + timedelta(days=6))  # 7 dpd, but the warning is minutes old: no lock
    device = the_device(session, app.loan_id)
    assert get_loan(session, app.loan_id).dpd == 7 and device.state == "reminder"
    age_warning(session, device, 23)  # 23 h after the warning: still not
    assert state_of(client, token, device.imei) == "reminder"
    age_warning(session, device, 1.5)  # 24.5 h: the next check-in locks
    _status, body = checkin(client, token, device.imei)
    payload = body["payload"]
    owed = amount_due(session, app.loan_id)
    assert payload["state"] == "locked"
    assert payload["amount_due"] == f"{owed / 100:.2f}" and payload["pay_url"].endswith(f"/shop/loans/{app.loan_id}")
    screen = client.get("/device/lock-screen", headers={"X-Device-Token": token, "X-Device-IMEI": device.imei})
    assert screen.status_code == 200 and "本机已限制使用" in screen.text and "立即还款" in screen.text
    assert "110" in screen.text  # emergency calls stay reachable

    pushes = _pushes_queued(session)
    pay_loan(session, app.loan_id, owed)  # the arrears paid at the cashier
    device = the_device(session, app.loan_id)
    assert device.state == "normal" and device.warned_at is None
    assert _pushes_queued(session) == pushes + 1  # the unlock push, in the payment's transaction
    assert ("push_unlock", None, "payment") in events(session, device)
    assert state_of(client, token, device.imei) == "normal"  # the next check-in hears it

    pay_loan(session, app.loan_id, payoff_quote(session, app.loan_id).total, purpose="payoff")
    device = the_device(session, app.loan_id)
    assert get_loan(session, app.loan_id).status == "paid_off"
    assert device.state == "released" and device.released_for == "payoff"
    assert state_of(client, token, device.imei) == "normal"  # within the cancel window the phone waits
    device.release_cancel_until = utcnow() - timedelta(seconds=1)
    session.flush()
    assert state_of(client, token, device.imei) == "released"
    kinds = [(k, s) for k, s, _ in events(session, device) if k == "state"]
    assert [s for _, s in kinds] == ["normal", "reminder", "locked", "normal", "released"]


def test_cob_locks_after_the_lead_and_a_retry_changes_nothing(session: Session, world: World) -> None:
    from fenqi.devices.cob import lock_step

    app = sold(session, world)
    close_through(session, FIRST_DUE + timedelta(days=6))  # 7 dpd, warned yesterday by the close
    device = the_device(session, app.loan_id)
    assert device.state == "reminder" and device.warned_on == FIRST_DUE + timedelta(days=5)
    age_warning(session, device, 24)
    close_through(session, FIRST_DUE + timedelta(days=7))  # the close locks (set-based)
    device = the_device(session, app.loan_id)
    assert device.state == "locked" and events(session, device)[-1] == ("state", "locked", "cob")
    day = FIRST_DUE + timedelta(days=7)
    assert lock_step(session, day, app.loan_id, app.loan_id) == 0  # a retried chunk finds nothing to do


def test_release_can_be_cancelled_only_within_its_window(
    client: TestClient, session: Session, world: World, auth_headers: Callable[..., dict[str, str]],
) -> None:
    app = sold(session, world)
    pay_loan(session, app.loan_id, payoff_quote(session, app.loan_id).total, purpose="payoff")
    device = the_device(session, app.loan_id)
    assert device.state == "released"
    collector = auth_headers("admin")  # no case was ever opened: no collector may act (test_device_access)
    clerk = auth_headers("clerk", world.merchant_id)
    assert client.post(f"/api/v1/devices/{device.id}/release/cancel", json={}, headers=clerk).status_code == 403
    r = client.post(f"/api/v1/devices/{device.id}/release/cancel", json={"note": "付款被撤销"}, headers=collector)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "normal"
    close_through(session, get_loan(session, app.loan_id).cob_date + timedelta(days=1))
    assert the_device(session, app.loan_id).state == "normal"  # held: the payoff does not release it again

    r = client.post(f"/api/v1/devices/{device.id}/release", json={"note": "核实后释放"}, headers=collector)
    assert r.status_code == 200 and r.json()["state"] == "released"
    r = client.post(f"/api/v1/devices/{device.id}/release/cancel", json={}, headers=collector)
    assert r.status_code == 409 and r.json()["error"] == "device_release_final"  # staff release: final

    other = sold(session, world, imei=world.devices[1])
    pay_loan(session, other.loan_id, payoff_quote(session, other.loan_id).total, purpose="payoff")
    late = the_device(session, other.loan_id)
    late.release_cancel_until = utcnow() - timedelta(minutes=1)
    session.flush()
    r = client.post(f"/api/v1/devices/{late.id}/release/cancel", json={}, headers=collector)
    assert r.status_code == 409  # the window has passed


def test_returned_and_exchanged_phones_are_released(session: Session, world: World) -> None:
    from fenqi.catalog.stock import exchange_device, set_device_status
    from fenqi.servicing.service import cancel_loan

    app = sold(session, world)
    # What an after-sales return does, in its order: the loan cancelled, then the phone back by IMEI.
    cancel_loan(session, app.loan_id, return_ref=f"test-return:{app.id}")
    set_device_status(session, imei=app.device_imei, status="returned")
    device = the_device(session, app.loan_id)
    assert (device.state, device.released_for) == ("released", "return")
    assert device.release_cancel_until is not None and device.release_cancel_until <= utcnow()  # final at once

    other = sold(session, world, imei=world.devices[1])
    old = the_device(session, other.loan_id)
    exchange_device(session, loan_id=other.loan_id, old_imei=old.imei, new_imei=world.devices[2])
    phones = {d.imei: d for d in service.loan_devices(session, other.loan_id)}
    assert phones[old.imei].state == "released" and phones[old.imei].released_for == "exchange"
    assert phones[world.devices[2]].state == "normal"  # the new phone is under the lock in its place


def test_ops_page_shows_state_and_history(sign_in: Callable[..., TestClient], session: Session, world: World) -> None:
    app = sold(session, world)
    close_through(session, FIRST_DUE + timedelta(days=5))
    client = sign_in("collector")
    assert f'href="/ops/loans/{app.loan_id}/device"' in client.get(f"/ops/loans/{app.loan_id}").text
    page = client.get(f"/ops/loans/{app.loan_id}/device")
    assert page.status_code == 200
    html = page.text
    assert "还款提醒" in html and "锁机预警已发送" in html and "交付登记" in html and "日终批处理" in html
    assert "reminder" not in html and "cob" not in html.replace("/static/console", "")  # no English codes
    assert app.device_imei not in html  # the IMEI masked
