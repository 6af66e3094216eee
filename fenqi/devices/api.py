"""HTTP of the device lock: the lock agent's check-in (authenticated by its device token, not a user),
the public key it verifies answers with, enrolment at handover, and staff views and actions.
Pages (the lock screen, the operations view of a loan's device) are the web's: fenqi.web.devices."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Header, Path
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from fenqi.collections.service import loan_assigned_to
from fenqi.devices import service
from fenqi.devices.errors import BadDeviceToken, DeviceNotFound
from fenqi.devices.models import LockDevice
from fenqi.devices.schemas import (
    CheckinIn,
    DeviceId,
    DeviceOut,
    EnrolOut,
    PolicyIn,
    PolicyOut,
    PublicKeyOut,
    ReleaseCancelIn,
    SignedCheckin,
)
from fenqi.identity.deps import Principal, ensure_merchant, require_roles
from fenqi.identity.roles import COLLECTOR
from fenqi.identity.service import audit
from fenqi.kit.bounds import EntityId
from fenqi.kit.db import Session, utcnow
from fenqi.kit.fastlane import Handler, LaneRequest
from fenqi.kit.responses import errors
from fenqi.kit.web import LazySessionDep, SessionDep, commit_early, get_lazy_session
from fenqi.pricing.service import get_product
from fenqi.servicing.service import get_loan

api = APIRouter(prefix="/api/v1/devices", tags=["devices"])
# The lock agents' check-in, the busiest route of all (every phone, every 15 minutes): the app matches it
# before every other route (fenqi.api), so it does not pay for trying the whole route table first.
hot_router = APIRouter(prefix="/api/v1/devices", tags=["devices"])
staff = require_roles("collector", "clerk", "merchant_owner")
ops = require_roles("collector")
admin = require_roles("admin")

TOKEN_HEADER = Header(..., alias="X-Device-Token", min_length=1, max_length=200,
                      description="The token issued to this device at enrolment")


@hot_router.post("/checkin", response_model=SignedCheckin, responses=errors(401, 403, 409),
             summary="Check-in of the lock agent: its state, signed (Ed25519)")
async def checkin(body: CheckinIn, session: LazySessionDep, token: str = TOKEN_HEADER) -> dict[str, Any]:
    """Deliberately without a user: the device authenticates with its own token and IMEI. A counter not
    above the last one used is refused (409) — a replayed request changes nothing.

    An async route with one trip to the thread pool: the check-in and its commit run there together."""

    return await run_in_threadpool(_checkin, session, token, body)


def _checkin(session: Session, token: str, body: CheckinIn) -> dict[str, Any]:
    answer = service.checkin(session, token=token, imei=body.imei, counter=body.counter, nonce=body.nonce)
    commit_early(session)
    return answer


async def checkin_lane(lane: LaneRequest) -> Response | None:
    """The check-in in the fast lane (fenqi.kit.fastlane): the route above without the framework's routing
    and dependency solving — the same token, body checks, service and answer. A request the route would
    refuse as malformed (header, content type, body) goes on to the route, which refuses it."""
    headers = lane.request.headers
    token = headers.get("x-device-token")
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if token is None or not 1 <= len(token) <= 200 or media != "application/json":
        return None
    try:
        body = CheckinIn.model_validate(json.loads(lane.body))
    except ValueError:  # not JSON, or not a check-in (pydantic's ValidationError is a ValueError)
        return None
    answer = await lane.with_session(get_lazy_session, lambda session: _checkin(session, token, body))
    signed = SignedCheckin.model_validate(answer)
    return Response(signed.model_dump_json(by_alias=True), media_type="application/json")


fast_lane: dict[tuple[str, str], Handler] = {("POST", "/api/v1/devices/checkin"): checkin_lane}


@api.get("/public-key", response_model=PublicKeyOut, summary="The key check-in answers are signed with")
def public_key() -> dict[str, str]:
    """Deliberately public: the agent is given it at enrolment and verifies every answer offline."""
    return service.public_key()


def _device_for(session: Session, device_id: int, who: Principal) -> LockDevice:
    """The device a staff member may change: a merchant's staff only their merchant's, a collector only
    the phones of loans whose collection case is assigned to them (another's answers 404, like a device
    that does not exist and like another collector's case) — checked before anything changes or is audited."""
    device = service.get_device(session, device_id)
    ensure_merchant(who, get_loan(session, device.loan_id).merchant_id)
    if who.role == COLLECTOR and not loan_assigned_to(session, device.loan_id, who.user_id):
        raise DeviceNotFound(str(device_id))
    return device


@api.post("/{device_id}/enrol", response_model=EnrolOut, responses=errors(404, 409),
             summary="Enrol the lock agent at handover: its token, shown once")
def enrol(device_id: DeviceId, session: SessionDep,
          who: Principal = Depends(staff)) -> dict[str, Any]:
    _device_for(session, device_id, who)
    device, token = service.enrol(session, device_id, actor_user_id=who.user_id or None)
    audit(session, actor_user_id=who.user_id or None, action="device.enrolled", subject=f"device:{device.id}",
          detail=f"loan:{device.loan_id}")
    key = service.public_key()
    return {"device_id": device.id, "imei": device.imei, "token": token, "public_key": key["public_key"],
            "kid": key["kid"]}


def device_json(session: Session, device: LockDevice) -> dict[str, Any]:
    return {
        "device_id": device.id, "loan_id": device.loan_id, "imei_masked": mask_imei(device.imei),
        "state": device.state, "shown_state": service.shown_state(device, utcnow()),
        "enrolled": device.token_sha256 is not None, "lock_after_dpd": device.lock_after_dpd,
        "warned_at": device.warned_at, "lock_allowed_at": device.lock_allowed_at, "locked_at": device.locked_at,
        "released_at": device.released_at, "release_cancel_until": device.release_cancel_until,
        "last_checkin_at": device.last_checkin_at,
        "history": [{"at": e.at, "kind": e.kind, "from_state": e.from_state, "to_state": e.to_state,
                     "reason": e.reason, "detail": e.detail} for e in service.history(session, device.id)],
    }


def mask_imei(imei: str) -> str:
    return f"{imei[:6]}*******{imei[-2:]}" if len(imei) >= 8 else "*" * len(imei)


@api.get("/loans/{loan_id}", response_model=list[DeviceOut], responses=errors(404),
            summary="A loan's financed phones: lock state and history")
def loan_devices(loan_id: EntityId, session: SessionDep,
                 who: Principal = Depends(staff)) -> list[dict[str, Any]]:
    ensure_merchant(who, get_loan(session, loan_id).merchant_id)
    return [device_json(session, d) for d in service.loan_devices(session, loan_id)]


@api.post("/{device_id}/release/cancel", response_model=DeviceOut, responses=errors(404, 409),
             summary="Cancel a payoff's release within its window")
def cancel_release(device_id: DeviceId, body: ReleaseCancelIn, session: SessionDep,
                   who: Principal = Depends(ops)) -> dict[str, Any]:
    _device_for(session, device_id, who)
    device = service.cancel_release(session, device_id, actor_user_id=who.user_id or None, note=body.note)
    audit(session, actor_user_id=who.user_id or None, action="device.release_cancelled",
          subject=f"device:{device.id}", detail=body.note[:100])
    service.evaluate(session, device, "staff", actor=who.user_id or None)
    return device_json(session, device)


@api.post("/{device_id}/release", response_model=DeviceOut, responses=errors(404, 409),
             summary="Release a phone for good by hand (final at once)")
def release(device_id: DeviceId, body: ReleaseCancelIn, session: SessionDep,
            who: Principal = Depends(ops)) -> dict[str, Any]:
    _device_for(session, device_id, who)
    device = service.release_by_staff(session, device_id, actor_user_id=who.user_id or None)
    audit(session, actor_user_id=who.user_id or None, action="device.released", subject=f"device:{device.id}",
          detail=body.note[:100])
    return device_json(session, device)


@api.put("/policies/{product_code}", response_model=PolicyOut, responses=errors(404),
            summary="The lock policy of a product (applies to phones handed over from now on)")
def put_policy(body: PolicyIn, product_code: str = Path(pattern=r"^[A-Za-z0-9_-]{1,32}$"),
               *, session: SessionDep, who: Principal = Depends(admin)) -> dict[str, Any]:
    get_product(session, product_code)
    row = service.set_policy(session, product_code, lock_after_dpd=body.lock_after_dpd,
                             warn_lead_hours=body.warn_lead_hours, enabled=body.enabled)
    audit(session, actor_user_id=who.user_id or None, action="device.policy", subject=f"product:{product_code}",
          detail=f"after {row.lock_after_dpd} dpd, lead {row.warn_lead_hours} h, enabled {row.enabled}")
    return {"product_code": row.product_code, "lock_after_dpd": row.lock_after_dpd,
            "warn_lead_hours": row.warn_lead_hours, "enabled": row.enabled}


router = APIRouter()
router.include_router(api)

__all__ = ["BadDeviceToken", "router"]
