"""Request and response models of the device-lock API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fenqi.kit.bounds import EntityId

IMEI_PATTERN = r"^[0-9]{15}$"


class CheckinIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"imei": "356938035643809", "counter": 42, "nonce": "k3J9xQ2w"}})

    imei: str = Field(pattern=IMEI_PATTERN, description="The phone's IMEI the token was issued for")
    counter: int = Field(ge=1, le=2**63 - 1, description="Higher than every earlier check-in of this device")
    nonce: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                       description="Random; echoed in the signed payload (the phone matches it)")


class SignedCheckin(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payload: dict[str, Any] = Field(description="imei, state, issued_at, counter, nonce, kid; message, amount_due "
                                                "and pay_url in reminder and locked states")
    signature: str = Field(description="Ed25519 over the canonical JSON of payload (sorted keys, no spaces), base64")
    alg: str


class PublicKeyOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alg: str
    kid: str
    public_key: str = Field(description="Raw 32-byte Ed25519 public key, base64")


class EnrolOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: int
    imei: str
    token: str = Field(description="Shown once: the lock agent keeps it; only its hash is stored")
    public_key: str
    kid: str


class EventOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime
    kind: str
    from_state: str | None
    to_state: str | None
    reason: str
    detail: str


class DeviceOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: int
    loan_id: int
    imei_masked: str
    state: str
    shown_state: str
    enrolled: bool
    lock_after_dpd: int
    warned_at: datetime | None
    lock_allowed_at: datetime | None
    locked_at: datetime | None
    released_at: datetime | None
    release_cancel_until: datetime | None
    last_checkin_at: datetime | None
    history: list[EventOut]


class ReleaseCancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=200)


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lock_after_dpd: int = Field(7, ge=1, le=365)
    warn_lead_hours: int = Field(24, ge=24, le=720)
    enabled: bool = True


class PolicyOut(PolicyIn):
    product_code: str


DeviceId = EntityId
