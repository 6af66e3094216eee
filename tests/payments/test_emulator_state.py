"""The gateway emulators remember trades and agreements in the database: a restarted emulator (or one
in a second web process) still knows an open trade, its payment and its refunds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete

from fenqi.payments.emulators import alipay, state
from fenqi.payments.emulators.core import EmulatedAgreement, EmulatedRefund, EmulatedTrade, now_cst
from fenqi.payments.models import EmulatorRecord


@pytest.fixture()
def in_database(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(state, "enabled", lambda: True)
    yield
    with engine.begin() as conn:
        conn.execute(delete(EmulatorRecord).where(EmulatorRecord.channel == "alipay"))


def _emulator() -> tuple[TestClient, alipay.AlipayEmulator]:
    app = alipay.create_app()
    return TestClient(app), app.state.emulator


def test_a_restarted_emulator_still_knows_open_trades_payments_refunds_and_agreements(in_database: None) -> None:
    first, emu1 = _emulator()
    trade = EmulatedTrade(out_trade_no="O-state-1", trade_no="T-state-1", amount_fen=123_456, subject="手机首付",
                          notify_url="http://127.0.0.1:9/notify")
    emu1.trades[trade.out_trade_no] = trade
    emu1.agreements["AG-state-1"] = EmulatedAgreement("AG-state-1", "AN-state-1", "", "", status="NORMAL",
                                                      signed_at=now_cst())
    assert first.get("/cashier/T-state-1").status_code == 200  # the request that changed it saves it

    second, emu2 = _emulator()  # a new process, or the demo restarted
    page = second.get("/cashier/T-state-1")
    assert page.status_code == 200 and "1234.56" in page.text
    assert emu2.agreements["AG-state-1"].agreement_no == "AN-state-1"
    assert emu2.agreements["AG-state-1"].signed_at is not None
    assert second.post("/cashier/T-state-1/pay").status_code == 200
    emu2.notifier.stop()
    emu2.trades["O-state-1"].refunds["R-1"] = EmulatedRefund("R-1", "RF-1", 1000, now_cst())
    second.get("/cashier/T-state-1")

    # The first emulator learns of the payment and the refund made through the second.
    assert "TRADE_SUCCESS" in first.get("/cashier/T-state-1").text
    known = emu1.trades["O-state-1"]
    assert known.status == "PAID" and known.paid_at is not None and known.refunded_fen == 1000


def test_in_memory_an_emulator_forgets_on_restart(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "enabled", lambda: False)
    first, emu1 = _emulator()
    emu1.trades["O-mem-1"] = EmulatedTrade(out_trade_no="O-mem-1", trade_no="T-mem-1", amount_fen=100, subject="x",
                                           notify_url="")
    assert first.get("/cashier/T-mem-1").status_code == 200
    second, _ = _emulator()
    assert second.get("/cashier/T-mem-1").status_code == 404
