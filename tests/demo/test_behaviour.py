"""The one shopper-behaviour model (fenqi.demo.behaviour): its draws, its schedule, and that the demo history and
`fenqi simulate` both take their shoppers from it (swap the model, both books change)."""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.demo import behaviour
from fenqi.demo.behaviour import ShopperModel
from tests.origination.world import build_world

RETURNS_ONLY = ShopperModel(mix=(("return", 1.0),))


def test_a_seed_draws_the_same_shoppers_in_the_models_shares() -> None:
    a = [behaviour.draw(random.Random(7)) for _ in range(3)]
    assert a == [behaviour.draw(random.Random(7)) for _ in range(3)]
    rng = random.Random(11)
    n = 20_000
    counts = Counter(behaviour.draw(rng).behaviour for _ in range(n))
    for name, share in behaviour.MODEL.mix:
        assert abs(counts[name] / n - share) < 0.015, (name, counts[name])


def test_shares_must_add_up() -> None:
    with pytest.raises(ValueError):
        ShopperModel(mix=(("on_time", 0.5), ("late", 0.4)))


@given(seed=st.integers(0, 10_000), term=st.integers(1, 24))
def test_the_schedule_follows_the_shopper(seed: int, term: int) -> None:
    signed = date(2026, 1, 10)
    dues = [signed + timedelta(days=30 * k) for k in range(1, term + 1)]
    shopper = behaviour.draw(random.Random(seed))
    plan = behaviour.schedule(shopper, signed, dues)
    pays = [when for when, what in plan if what == "pay"]
    paid_periods = term if shopper.stop_after is None else min(term, shopper.stop_after)
    assert pays == [due + timedelta(days=shopper.delay) for due in dues[:paid_periods]]
    assert [when for when, _ in plan] == sorted(when for when, _ in plan)
    others = [(when, what) for when, what in plan if what != "pay"]
    if shopper.behaviour in ("payoff", "prepay", "return"):
        assert others == [(signed + timedelta(days=shopper.after or 0), shopper.behaviour)]
        if shopper.behaviour == "return":
            assert pays == [] and 1 <= (shopper.after or 0) <= 6  # inside the 7-day return window
    else:
        assert others == []
    stopped = behaviour.stops_paying(shopper, dues)
    assert (stopped is not None) == (shopper.behaviour == "default" and paid_periods < term)


def test_simulate_takes_its_shoppers_from_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from fenqi.demo.simulate import simulate
    from fenqi.kit.db import make_engine
    from fenqi.kit.migrate import upgrade

    monkeypatch.setattr(behaviour, "MODEL", RETURNS_ONLY)
    with tempfile.TemporaryDirectory(prefix="fenqi-sim-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'sim.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            report = simulate(engine, loans=8, days=20, seed=2)
        finally:
            engine.dispose()
    assert report.figures["behaviours"] == {"return": 8}
    assert report.figures["loans_by_status"]["cancelled"] == 8
    assert report.check["ok"] is True


def test_the_demo_history_takes_its_shoppers_from_the_model(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from fenqi.demo.history import build_history
    from fenqi.kit.clock import business_date
    from fenqi.servicing import reporting as servicing_rep
    from fenqi.servicing.check import check_books

    monkeypatch.setattr(behaviour, "MODEL", RETURNS_ONLY)
    build_world(session, suffix="B")
    report = build_history(session, days=14, per_day=1.5, seed=4, pending_days=0)
    today = business_date(session)
    loans = servicing_rep.loans()
    rows = session.execute(select(loans.c.booked_on, loans.c.status)).all()
    assert len(rows) == report.loans > 3
    # Every shopper returns the phone within six days: the older loans are all cancelled, none paid or late.
    old = [status for booked, status in rows if booked <= today - timedelta(days=6)]
    assert old and set(old) == {"cancelled"}
    assert {status for _, status in rows} <= {"cancelled", "active"}
    assert check_books(session).to_json()["ok"] is True
