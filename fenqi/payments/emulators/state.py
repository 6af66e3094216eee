"""The emulators' memory in the database (table `payment_emulator_record`): trades with their refunds,
and withholding agreements. Each request to an emulator first reads what the database knows, then writes
back what the request changed, so a restarted demo and every web process see the same trades.

On by default in the demo (`FENQI_ENV=demo`); `FENQI_EMULATOR_STATE=memory|db` overrides (tests keep it
in memory: their database sits in a transaction that is rolled back). Statements produced for download
(`bills`) and notifications waiting for a retry stay in memory: a lost one is found by polling."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from fenqi.kit.db import session_scope, utcnow
from fenqi.payments.emulators.core import EmulatedAgreement, EmulatedRefund, EmulatedTrade
from fenqi.payments.models import EmulatorRecord
from fenqi.payments.settings import get_payment_settings

_DATES = {"created_at", "paid_at", "signed_at"}


def _encode(obj: EmulatedTrade | EmulatedAgreement) -> str:
    return json.dumps(asdict(obj), default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
                      sort_keys=True, ensure_ascii=False)


def _dates(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (datetime.fromisoformat(v) if k in _DATES and v else v) for k, v in d.items()}


def _decode(kind: str, data: str) -> EmulatedTrade | EmulatedAgreement:
    d = _dates(json.loads(data))
    if kind == "agreement":
        return EmulatedAgreement(**d)
    d["refunds"] = {k: EmulatedRefund(**_dates(r)) for k, r in d.get("refunds", {}).items()}
    return EmulatedTrade(**d)


class EmulatorStore:
    """Loads and saves the maps of one emulator (`{"trade": emu.trades, "agreement": emu.agreements}`)."""

    def __init__(self, channel: str, maps: dict[str, dict[str, Any]], lock: Any) -> None:
        self.channel = channel
        self.maps = maps
        self.lock = lock
        self.seen: dict[tuple[str, str], str] = {}

    def load(self) -> None:
        with self.lock, session_scope() as session:
            rows = session.execute(select(EmulatorRecord.kind, EmulatorRecord.key, EmulatorRecord.data)
                                   .where(EmulatorRecord.channel == self.channel)).all()
            for kind, key, data in rows:
                if self.seen.get((kind, key)) != data and kind in self.maps:
                    self.maps[kind][key] = _decode(kind, data)
                    self.seen[(kind, key)] = data

    def save(self) -> None:
        with self.lock:
            changed = [(kind, key, _encode(obj)) for kind, items in self.maps.items() for key, obj in items.items()]
            changed = [c for c in changed if self.seen.get((c[0], c[1])) != c[2]]
            if not changed:
                return
            with session_scope() as session:
                for kind, key, data in changed:
                    where = (EmulatorRecord.channel == self.channel, EmulatorRecord.kind == kind,
                             EmulatorRecord.key == key)
                    result: Any = session.execute(update(EmulatorRecord).where(*where)
                                                  .values(data=data, updated_at=utcnow()))
                    if not result.rowcount:
                        try:
                            with session.begin_nested():
                                session.add(EmulatorRecord(channel=self.channel, kind=kind, key=key, data=data))
                        except IntegrityError:  # another process inserted it first: ours is newer
                            session.execute(update(EmulatorRecord).where(*where).values(data=data))
            for kind, key, data in changed:
                self.seen[(kind, key)] = data


def enabled() -> bool:
    settings = get_payment_settings()
    mode = settings.emulator_state or ("db" if settings.env == "demo" else "memory")
    return mode == "db"


def keep_in_database(app: FastAPI, store: EmulatorStore) -> None:
    """Every request to the emulator reads the database first and writes its changes after."""

    @app.middleware("http")
    async def remember(request: Request, call_next: Any) -> Response:
        await run_in_threadpool(store.load)
        response: Response = await call_next(request)
        await run_in_threadpool(store.save)
        return response
