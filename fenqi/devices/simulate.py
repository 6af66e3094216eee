"""The device simulator: thousands of lock agents checking in against a running server.

`provision(n)` books `n` small loans straight into the database the server uses (idempotent by
reference: a second run re-enrols the same phones with new tokens) and enrols a phone on each;
`run(...)` plays the agents over HTTP (httpx, concurrent): every check-in with a higher counter and a
fresh nonce, every answer verified as the phone would — the Ed25519 signature with the public key
fetched once, the IMEI, counter and nonce it sent; optionally a replay of an old request per phone
(which must be refused) and the lock screen of phones told `locked`.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from fenqi.devices import service
from fenqi.devices.signing import verify
from fenqi.kit.db import session_scope
from fenqi.pricing.service import first_product_code, has_products, seed_products
from fenqi.servicing.service import book_loan


@dataclass(frozen=True, slots=True)
class SimDevice:
    device_id: int
    imei: str
    token: str


@dataclass
class SimReport:
    checkins: int = 0
    errors: int = 0
    bad_signatures: int = 0
    replays_refused: int = 0
    replays_accepted: int = 0
    screens: int = 0
    states: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def to_json(self) -> dict[str, Any]:
        rate = self.checkins / self.seconds if self.seconds else 0.0
        return {
            "checkins": self.checkins, "errors": self.errors, "bad_signatures": self.bad_signatures,
            "replays_refused": self.replays_refused, "replays_accepted": self.replays_accepted,
            "screens": self.screens, "states": self.states, "seconds": round(self.seconds, 3),
            "per_second": round(rate, 1), "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else 0.0,
        }


def fake_imei(i: int, salt: int = 0) -> str:
    """A valid (Luhn) IMEI with a reporting body of 99 (reserved for tests), unique per i."""
    from stdnum import luhn

    body = f"99{(salt * 10_000_000 + i) % 10**12:012d}"
    return body + luhn.calc_check_digit(body)


def provision(n: int, *, prefix: str = "sim", product_code: str | None = None) -> list[SimDevice]:
    """Book `n` loans (reference `{prefix}-{i}`) with a phone under the lock each; enrol every phone."""
    out: list[SimDevice] = []
    salt = sum(prefix.encode()) % 1000
    with session_scope() as session:
        if not has_products(session):
            seed_products(session)
        code = product_code or first_product_code(session)
        assert code is not None
        for i in range(n):
            loan = book_loan(session, external_ref=f"{prefix}-{i}", product_code=code, financed_fen=300_000, term=3)
            device = service.register_device(session, loan_id=loan.id, imei=fake_imei(i, salt), reason="handover")
            _, token = service.enrol(session, device.id, actor_user_id=None)
            out.append(SimDevice(device.id, device.imei, token))
    return out


async def _checkin(client: httpx.AsyncClient, device: SimDevice, counter: int, key: bytes,
                   report: SimReport, screens: bool) -> dict[str, Any] | None:
    nonce = secrets.token_urlsafe(12)
    body = {"imei": device.imei, "counter": counter, "nonce": nonce}
    started = time.perf_counter()
    try:
        r = await client.post("/api/v1/devices/checkin", json=body, headers={"X-Device-Token": device.token})
    except httpx.HTTPError:
        report.errors += 1
        return None
    report.latencies_ms.append((time.perf_counter() - started) * 1000)
    if r.status_code != 200:
        report.errors += 1
        return None
    answer = r.json()
    payload = answer["payload"]
    ok = verify(key, payload, answer["signature"]) and payload["imei"] == device.imei \
        and payload["nonce"] == nonce and payload["counter"] == counter
    if not ok:
        report.bad_signatures += 1
        return None
    report.checkins += 1
    report.states[payload["state"]] = report.states.get(payload["state"], 0) + 1
    if screens and payload["state"] in ("locked", "reminder"):
        page = await client.get("/device/lock-screen",
                                headers={"X-Device-Token": device.token, "X-Device-IMEI": device.imei})
        if page.status_code == 200:
            report.screens += 1
    return body


async def _agent(client: httpx.AsyncClient, device: SimDevice, rounds: int, start_counter: int, key: bytes,
                 report: SimReport, replay: bool, screens: bool, gate: asyncio.Semaphore) -> None:
    first: dict[str, Any] | None = None
    for k in range(rounds):
        async with gate:
            sent = await _checkin(client, device, start_counter + k, key, report, screens)
        first = first or sent
    if replay and first is not None:
        async with gate:
            r = await client.post("/api/v1/devices/checkin", json=first, headers={"X-Device-Token": device.token})
        if r.status_code == 409:
            report.replays_refused += 1
        else:
            report.replays_accepted += 1


async def run_async(base_url: str, devices: list[SimDevice], *, rounds: int = 1, concurrency: int = 64,
                    start_counter: int = 1, replay: bool = False, screens: bool = False) -> SimReport:
    report = SimReport()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        key = base64.b64decode((await client.get("/api/v1/devices/public-key")).json()["public_key"])
        gate = asyncio.Semaphore(concurrency)
        started = time.perf_counter()
        await asyncio.gather(*(_agent(client, d, rounds, start_counter, key, report, replay, screens, gate)
                               for d in devices))
        report.seconds = time.perf_counter() - started
    return report


async def baseline_async(base_url: str, requests: int, concurrency: int) -> SimReport:
    """The same load on /healthz (no database, no signature): the ratio's denominator."""
    report = SimReport()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                started = time.perf_counter()
                r = await client.get("/healthz")
                report.latencies_ms.append((time.perf_counter() - started) * 1000)
                if r.status_code == 200:
                    report.checkins += 1
                else:
                    report.errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(requests)))
        report.seconds = time.perf_counter() - started
    return report


def run(base_url: str, devices: list[SimDevice], **kwargs: Any) -> SimReport:
    return asyncio.run(run_async(base_url, devices, **kwargs))


def baseline(base_url: str, requests: int, concurrency: int) -> SimReport:
    return asyncio.run(baseline_async(base_url, requests, concurrency))
