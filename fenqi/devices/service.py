"""The device lock's port: registration at handover, enrolment of the lock agent (its token, shown once),
check-ins, and the reactions to payments, payoff, returns and exchanges. Services never commit.

    device = register_device(session, loan_id=loan.id, imei=imei)        # at handover (catalog hook)
    device, token = enrol(session, device.id, actor_user_id=clerk_id)     # the agent is given the token
    answer = checkin(session, token=token, imei=imei, counter=1, nonce="n1")  # signed payload
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, bindparam, select, update
from sqlalchemy.orm import Session

from fenqi.devices import signing
from fenqi.devices.errors import BadDeviceToken, DeviceNotFound, ReleaseFinal, ReplayedCheckin
from fenqi.devices.models import LockDevice, LockEvent, LockPolicy
from fenqi.devices.policy import Decision, LockState, decide, lock_allowed_from
from fenqi.devices.settings import device_settings
from fenqi.kit.clock import business_date
from fenqi.kit.db import utcnow
from fenqi.kit.errors import InvalidInput
from fenqi.kit.jobs import defer
from fenqi.kit.log import log
from fenqi.kit.money import fmt_yuan, from_fen
from fenqi.kit.settings import get_settings
from fenqi.servicing.service import amount_due, get_loan, loan_standing, product_of

TOKEN_PREFIX = "fq1"
_DUMMY_HASH = "0" * 64

# (session, loan_id, lock_date, text_zh) → None: queues the lock warning to the shopper (collections'
# notices, under their quiet hours and caps). Wired by hooks.install().
WarningSender = Callable[[Session, int, date, str], None]
_warning_sender: list[WarningSender] = []


def set_warning_sender(sender: WarningSender) -> None:
    _warning_sender[:] = [sender]


# --- policy and registration ------------------------------------------------------------------------


def set_policy(session: Session, product_code: str, *, lock_after_dpd: int, warn_lead_hours: int = 24,
               enabled: bool = True) -> LockPolicy:
    if not 1 <= lock_after_dpd <= 365:
        raise InvalidInput("lock_after_dpd: 1–365", zh="锁机前的逾期天数应在 1 到 365 之间",
                           en="The days overdue before locking must be 1 to 365")
    if not 24 <= warn_lead_hours <= 24 * 30:
        raise InvalidInput("warn_lead_hours: at least 24 (the warning comes a day before the lock)",
                           zh="锁机提醒须至少提前 24 小时", en="The warning comes at least 24 hours before the lock")
    row = session.scalar(select(LockPolicy).where(LockPolicy.product_code == product_code))
    if row is None:
        row = LockPolicy(product_code=product_code)
        session.add(row)
    row.lock_after_dpd, row.warn_lead_hours, row.enabled = lock_after_dpd, warn_lead_hours, enabled
    session.flush()
    return row


def policy_for(session: Session, product_code: str) -> tuple[bool, int, int]:
    """(enabled, lock_after_dpd, warn_lead_hours) of a product; the settings' defaults without a policy."""
    row = session.scalar(select(LockPolicy).where(LockPolicy.product_code == product_code))
    if row is None:
        s = device_settings()
        return True, s.lock_after_dpd, max(s.warn_lead_hours, 24)
    return row.enabled, row.lock_after_dpd, row.warn_lead_hours


def register_device(session: Session, *, loan_id: int, imei: str, reason: str = "handover") -> LockDevice:
    """The phone handed over on a loan gets its lock record (idempotent per loan and IMEI), with the
    product's policy copied as the contract had it."""
    found = session.scalar(select(LockDevice).where(LockDevice.loan_id == loan_id, LockDevice.imei == imei))
    if found is not None:
        return found
    loan = get_loan(session, loan_id)
    enabled, after, lead = policy_for(session, product_of(session, loan).code)
    device = LockDevice(loan_id=loan_id, imei=imei, state=LockState.NORMAL, lock_enabled=enabled,
                        lock_after_dpd=after, warn_lead_hours=lead, counter=0)
    session.add(device)
    session.flush()
    _event(session, device, "state", reason, None, LockState.NORMAL)
    return device


def enrol(session: Session, device_id: int, *, actor_user_id: int | None) -> tuple[LockDevice, str]:
    """Issue the lock agent's token (shown once; only its hash is kept). Enrolling again replaces it:
    the old token stops working."""
    device = get_device(session, device_id)
    if device.state == LockState.RELEASED:
        raise ReleaseFinal(f"device {device_id}", zh="设备已释放，无需再登记",
                           en="The device is released: nothing to enrol")
    token = f"{TOKEN_PREFIX}.{device.id}.{secrets.token_urlsafe(32)}"
    device.token_sha256 = _hash(token)
    device.token_issued_at = utcnow()
    device.counter = 0
    _event(session, device, "enrolled", "staff", actor=actor_user_id)
    session.flush()
    return device, token


def get_device(session: Session, device_id: int) -> LockDevice:
    device = session.get(LockDevice, device_id)
    if device is None:
        raise DeviceNotFound(str(device_id))
    return device


def loan_devices(session: Session, loan_id: int) -> list[LockDevice]:
    return list(session.scalars(select(LockDevice).where(LockDevice.loan_id == loan_id).order_by(LockDevice.id)))


def history(session: Session, device_id: int, limit: int = 200) -> list[LockEvent]:
    return list(session.scalars(
        select(LockEvent).where(LockEvent.device_id == device_id).order_by(LockEvent.id.desc()).limit(limit)))


# --- state changes ----------------------------------------------------------------------------------


def _event(session: Session, device: LockDevice, kind: str, reason: str, from_state: str | None = None,
           to_state: str | None = None, *, detail: str = "", actor: int | None = None) -> None:
    session.add(LockEvent(device_id=device.id, loan_id=device.loan_id, kind=kind, from_state=from_state,
                          to_state=to_state, reason=reason, business_date=business_date(session),
                          actor_user_id=actor, detail=detail[:200], at=utcnow()))


def lock_date(session: Session, device: LockDevice, dpd: int) -> date:
    """The first day the phone may be locked: when the arrears reach lock_after days, and not before the
    warning's lead has passed (in China Standard Time)."""
    by_dpd = business_date(session) + timedelta(days=max(device.lock_after_dpd - dpd, 0))
    assert device.lock_allowed_at is not None
    return max(by_dpd, device.lock_allowed_at.astimezone(ZoneInfo("Asia/Shanghai")).date())


def _warn(session: Session, device: LockDevice, now: datetime) -> None:
    device.warned_at, device.warned_on = now, business_date(session)
    device.lock_allowed_at = lock_allowed_from(now, device.warn_lead_hours)
    on = lock_date(session, device, get_loan(session, device.loan_id).dpd)
    text = (f"【分期】您的分期已逾期，如仍未还款，手机将于{on.month}月{on.day}日起被限制使用"
            "（紧急电话和还款不受影响），请尽快还款。")
    for sender in _warning_sender:
        try:
            with session.begin_nested():  # a sender that fails leaves no half-written notice behind
                sender(session, device.loan_id, on, text)
        except Exception as exc:  # the warning is recorded either way; a message not queued is logged
            log.warning("devices.warning.not_queued", device_id=device.id, error=type(exc).__name__)
    _event(session, device, "warning", "cob", detail=f"lock after {device.lock_after_dpd} dpd")


def apply(session: Session, device: LockDevice, decision: Decision, reason: str, now: datetime,
          actor: int | None = None) -> bool:
    """Move a device to the decided state (history, warning, unlock push). True if the state changed."""
    if decision.warn and device.warned_at is None:
        _warn(session, device, now)
    before = device.state
    if decision.state == before:
        return False
    device.state, device.updated_at = decision.state, now
    if decision.state == LockState.LOCKED:
        device.locked_at = now
    if decision.state == LockState.NORMAL:
        device.warned_at = device.warned_on = device.lock_allowed_at = None
    if decision.state == LockState.RELEASED:
        window = timedelta(minutes=device_settings().release_cancel_minutes)
        device.released_at, device.released_for = now, decision.released_for or reason
        # A return or exchange is final at once; a payoff can be cancelled within the window.
        device.release_cancel_until = now + window if decision.released_for == "payoff" else now
    _event(session, device, "state", reason, before, decision.state, actor=actor)
    if before == LockState.LOCKED:
        push_unlock(session, device, reason)
    session.flush()
    return True


def push_unlock(session: Session, device: LockDevice, reason: str) -> None:
    """Tell the phone to check in now (it unlocks at that check-in): a job in this very transaction."""
    defer(session, "devices.push_unlock", device_id=device.id)
    _event(session, device, "push_unlock", reason, detail="queued")


def evaluate(session: Session, device: LockDevice, reason: str, *, now: datetime | None = None,
             actor: int | None = None) -> bool:
    """Apply the policy to one device from its loan's figures as servicing has them now."""
    now = now or utcnow()
    loan = get_loan(session, device.loan_id)
    decision = decide(state=device.state, loan_status=loan.status, dpd=loan.dpd, lock_enabled=device.lock_enabled,
                      lock_after_dpd=device.lock_after_dpd, lock_allowed_at=device.lock_allowed_at,
                      warned=device.warned_at is not None, now=now, release_held=device.release_held)
    return apply(session, device, decision, reason, now, actor)


def loan_paid(session: Session, loan_id: int, *, payoff: bool = False) -> None:
    """Servicing applied a payment to the loan: a cure unlocks (and pushes) at once, a payoff releases."""
    for device in loan_devices(session, loan_id):
        evaluate(session, device, "payoff" if payoff else "payment")


def device_back(session: Session, *, imei: str, loan_id: int | None, why: str) -> None:
    """The phone came back (a return, or the old phone of an exchange): released for good at once."""
    q = select(LockDevice).where(LockDevice.imei == imei, LockDevice.state != LockState.RELEASED)
    if loan_id is not None:
        q = q.where(LockDevice.loan_id == loan_id)
    for device in session.scalars(q):
        apply(session, device, Decision(LockState.RELEASED, False, why), why, utcnow())


def cancel_release(session: Session, device_id: int, *, actor_user_id: int | None, note: str = "") -> LockDevice:
    """Undo a payoff's release within its window (a payment reversed); the policy then applies again."""
    device = get_device(session, device_id)
    now = utcnow()
    if device.state != LockState.RELEASED or device.released_for != "payoff":
        raise ReleaseFinal(f"device {device_id}")
    if device.release_cancel_until is None or device.release_cancel_until <= now:
        raise ReleaseFinal("the window has passed")
    device.state, device.released_at, device.release_cancel_until, device.released_for = (
        LockState.NORMAL, None, None, None)
    device.release_held = True
    _event(session, device, "release_cancelled", "staff", LockState.RELEASED, LockState.NORMAL, actor=actor_user_id,
           detail=note)
    session.flush()
    return device


def release_by_staff(session: Session, device_id: int, *, actor_user_id: int | None) -> LockDevice:
    """Release a phone for good by hand (after a held release, or a settlement): final at once."""
    device = get_device(session, device_id)
    if device.state == LockState.RELEASED:
        return device
    apply(session, device, Decision(LockState.RELEASED, False, "staff"), "staff", utcnow(), actor_user_id)
    device.release_held = False
    session.flush()
    return device


# --- check-in ---------------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(session: Session, token: str, imei: str) -> LockDevice:
    """The device of a token, if the token is its current one and the IMEI is its own (compared in
    constant time; one error for every failure)."""
    device_id = _token_device_id(token)
    device = session.get(LockDevice, device_id) if device_id else None
    stored = device.token_sha256 if device is not None and device.token_sha256 else _DUMMY_HASH
    token_ok = hmac.compare_digest(_hash(token), stored)
    imei_ok = hmac.compare_digest(imei.encode(), (device.imei if device is not None else "").encode())
    if device is None or not (token_ok and imei_ok) or stored == _DUMMY_HASH:
        raise BadDeviceToken()
    return device


def _token_device_id(token: str) -> int:
    parts = token.split(".")
    ok = len(parts) == 3 and parts[0] == TOKEN_PREFIX and parts[1].isdecimal() and len(parts[1]) < 19
    return int(parts[1]) if ok else 0


_D = LockDevice.__table__.c


@dataclass(frozen=True, slots=True)
class CheckedIn:
    """A device as a check-in reads it back, with its loan's standing (status None: no such loan)."""

    id: int
    loan_id: int
    imei: str
    state: str
    lock_enabled: bool
    lock_after_dpd: int
    lock_allowed_at: datetime | None
    warned_at: datetime | None
    release_held: bool
    release_cancel_until: datetime | None
    loan_status: str | None
    dpd: int


@lru_cache(maxsize=4)
def _checkin_statements(dialect: str) -> tuple[Executable, Executable | None]:
    """Built once per dialect (parameters bound at each call): the counter move with the device read
    back, joined to its loan's standing on PostgreSQL (a data-modifying CTE), else the loan read apart."""
    moved = (update(LockDevice)
             .where(_D.id == bindparam("b_device_id"), _D.token_sha256 == bindparam("b_token_sha256"),
                    _D.imei == bindparam("b_imei"), _D.counter < bindparam("b_counter"))
             .values(counter=bindparam("b_counter"), last_checkin_at=bindparam("b_now"))
             .returning(_D.id, _D.loan_id, _D.imei, _D.state, _D.lock_enabled, _D.lock_after_dpd,
                        _D.lock_allowed_at, _D.warned_at, _D.release_held, _D.release_cancel_until))
    loan = loan_standing()
    if dialect == "postgresql":
        d = moved.cte("moved")
        return select(d, loan.c.status.label("loan_status"), loan.c.dpd).outerjoin(
            loan, loan.c.id == d.c.loan_id), None
    return moved, select(loan.c.status, loan.c.dpd).where(loan.c.id == bindparam("b_loan_id"))


def _move_counter(session: Session, device_id: int, token: str, imei: str, counter: int,
                  now: datetime) -> CheckedIn | None:
    """One statement: move the counter of the device this token and IMEI belong to, if `counter` is above
    its last one, and return the device's lock state with its loan's status and days past due (None when
    nothing matched: a wrong token or IMEI, or a counter not above the last). The token is matched by its
    SHA-256 (a preimage of the stored hash is the only way in, so the equality's timing tells nothing)."""
    session.flush()  # changes the session holds go first (a no-op in a request's fresh session)
    conn = session.connection()
    moved, standing_q = _checkin_statements(conn.dialect.name)
    # Parameter names apart from the columns' (an UPDATE takes a parameter named as a column as its value).
    params = {"b_device_id": device_id, "b_token_sha256": _hash(token), "b_imei": imei, "b_counter": counter,
              "b_now": now}
    row = conn.execute(moved, params).first()
    if row is None:
        return None
    if standing_q is None:
        return CheckedIn(**row._mapping)
    standing = conn.execute(standing_q, {"b_loan_id": row.loan_id}).first()
    return CheckedIn(**row._mapping, loan_status=standing.status if standing else None,
                     dpd=standing.dpd if standing else 0)


def checkin(session: Session, *, token: str, imei: str, counter: int, nonce: str) -> dict[str, Any]:
    """A check-in of the lock agent: authenticated, fresh (its counter above every earlier one), then the
    policy applied and the answer signed.

    The usual check-in — a device whose state stays as it is and shows no screen — is one statement (the
    counter moved, the device and its loan's standing read back) and a signature. A state change, a
    warning due, or a reminder/lock screen to fill goes on with the device loaded and its row locked."""
    now = utcnow()
    device_id = _token_device_id(token)
    row = _move_counter(session, device_id, token, imei, counter, now) if device_id else None
    if row is None:
        authenticate(session, token, imei)  # a wrong token or IMEI: 401; else the counter was not above: 409
        raise ReplayedCheckin()
    _forget(session, device_id)  # a copy the session holds has a stale counter
    if row.loan_status is not None:
        decision = decide(state=row.state, loan_status=row.loan_status, dpd=row.dpd,
                          lock_enabled=row.lock_enabled, lock_after_dpd=row.lock_after_dpd,
                          lock_allowed_at=row.lock_allowed_at, warned=row.warned_at is not None, now=now,
                          release_held=row.release_held)
        shown = _shown(row.state, row.release_cancel_until, now)
        if decision.state == row.state and not (decision.warn and row.warned_at is None) \
                and shown not in (LockState.REMINDER, LockState.LOCKED):
            return _signed(_payload(row.id, row.imei, shown, counter=counter, nonce=nonce, now=now))
    device = session.scalar(select(LockDevice).where(LockDevice.id == device_id).with_for_update()
                            .execution_options(populate_existing=True))
    assert device is not None
    evaluate(session, device, "checkin", now=now)
    return signed_answer(session, device, counter=counter, nonce=nonce, now=now)


def _forget(session: Session, device_id: int) -> None:
    held = session.identity_map.get(session.identity_key(LockDevice, device_id))
    if held is not None:
        session.expire(held)


def _shown(state: str, release_cancel_until: datetime | None, now: datetime) -> str:
    if state == LockState.RELEASED and release_cancel_until and release_cancel_until > now:
        return LockState.NORMAL
    return state


def shown_state(device: LockDevice, now: datetime) -> str:
    """What the phone is told: a payoff's release only once its cancel window has passed."""
    return _shown(device.state, device.release_cancel_until, now)


def _payload(device_id: int, imei: str, state: str, *, counter: int, nonce: str, now: datetime) -> dict[str, Any]:
    return {
        "v": 1, "device_id": device_id, "imei": imei, "state": state,
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "counter": counter, "nonce": nonce,
        "kid": signing.key_id(), "next_checkin_seconds": device_settings().checkin_interval_seconds,
    }


def _signed(payload: dict[str, Any]) -> dict[str, Any]:
    return {"payload": payload, "signature": signing.sign(payload), "alg": signing.ALGORITHM}


def signed_answer(session: Session, device: LockDevice, *, counter: int, nonce: str, now: datetime) -> dict[str, Any]:
    state = shown_state(device, now)
    payload = _payload(device.id, device.imei, state, counter=counter, nonce=nonce, now=now)
    if state in (LockState.REMINDER, LockState.LOCKED):
        payload.update(screen(session, device))
    return _signed(payload)


def screen(session: Session, device: LockDevice) -> dict[str, str]:
    """What the phone shows in reminder and locked states: the message, the amount owed, the pay link."""
    base = get_settings().base_url.rstrip("/")
    owed = fmt_yuan(from_fen(amount_due(session, device.loan_id)))
    dpd = get_loan(session, device.loan_id).dpd
    if device.state == LockState.LOCKED:
        zh = (f"因分期逾期未还，本机已被限制使用。还清逾期款项 ¥{owed} 后将自动解锁。"
              "紧急电话与还款功能不受影响。")
        en = (f"This phone is restricted because installments are overdue. Pay the {owed} yuan overdue and it "
              "unlocks automatically. Emergency calls and payment remain available.")
    else:
        warn = f"逾期满{device.lock_after_dpd}天后手机将被限制使用。" if device.warned_at else ""
        zh = f"您的分期已逾期{dpd}天，应还 ¥{owed}，请尽快还款。{warn}"
        en = f"Your installments are {dpd} days overdue: {owed} yuan to pay. Please pay soon."
    return {"message_zh": zh, "message_en": en, "amount_due": owed,
            "pay_url": f"{base}/shop/loans/{device.loan_id}", "screen_url": f"{base}/device/lock-screen"}


def public_key() -> dict[str, str]:
    import base64

    return {"alg": signing.ALGORITHM, "kid": signing.key_id(),
            "public_key": base64.b64encode(signing.public_key_raw()).decode()}
