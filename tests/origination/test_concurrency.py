"""Two applications for the same ID number submitted at the same time, in two real transactions on
two connections: exactly one proceeds, the other is refused with `application_open`.

The test runs on a database of its own (a fresh schema on PostgreSQL, a fresh file on SQLite) because
the two transactions must really commit, which the per-test rolled-back session cannot do.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from fenqi.identity.deps import Principal
from fenqi.kit.db import make_engine
from fenqi.kit.errors import DomainError
from fenqi.kit.migrate import upgrade
from fenqi.origination.models import Application
from fenqi.origination.schemas import ApplicationIn
from fenqi.origination.service import Origin, submit
from tests.origination.world import World, build_world

HOLD_SECONDS = 0.4


@pytest.fixture()
def own_engine(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        schema = f"conc_{uuid.uuid4().hex[:10]}"
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        own = create_engine(engine.url, connect_args={"options": f"-csearch_path={schema}"}, pool_size=4)
    else:
        own = make_engine(f"sqlite:///{tmp_path}/concurrency.db")
    with own.begin() as conn:
        upgrade(connection=conn)
    try:
        yield own
    finally:
        own.dispose()
        if postgres:
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def test_two_concurrent_applications_for_one_id_exactly_one_proceeds(own_engine: Engine) -> None:
    with Session(own_engine) as s:
        world: World = build_world(s)
        s.commit()
    clerk = Principal(user_id=1, role="clerk", merchant_id=world.merchant_id, display_name="店员")
    bodies = [ApplicationIn.model_validate(world.body(phone=phone)) for phone in ("13812345678", "13912345678")]
    start = threading.Barrier(2)
    outcomes: dict[int, str] = {}
    elapsed: dict[int, float] = {}

    def apply(i: int) -> None:
        with Session(own_engine) as s:
            start.wait()
            began = time.perf_counter()
            try:
                submit(s, bodies[i], clerk, Origin(ip=f"10.0.0.{i}", device="test"))
                time.sleep(HOLD_SECONDS)  # keep the transaction open while the other one tries
                s.commit()
                outcomes[i] = "proceeded"
            except DomainError as exc:
                s.rollback()
                outcomes[i] = exc.code
            elapsed[i] = time.perf_counter() - began

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes.values()) == ["application_open", "proceeded"], outcomes
    loser = next(i for i, o in outcomes.items() if o == "application_open")
    # The loser really ran alongside the winner: it waited on the winner's open transaction.
    assert elapsed[loser] >= HOLD_SECONDS * 0.8, elapsed
    with Session(own_engine) as s:
        assert s.scalar(select(func.count()).select_from(Application)) == 1
        assert s.scalar(select(func.count()).select_from(Application).where(Application.open_key.is_not(None))) == 1
