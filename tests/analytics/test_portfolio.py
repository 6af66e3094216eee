"""Vintage curves, roll rates, cures, losses and expected loss of a book with known histories
(tests/analytics/book.py), every figure worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from fenqi.analytics import portfolio
from fenqi.kit.errors import InvalidInput
from tests.analytics.book import build

D = Decimal


def test_vintages_roll_rates_cures_losses_and_expected_loss(session: Session) -> None:
    build(session)
    vintages = {(v.month, v.product_code): v for v in portfolio.vintages(session)}
    jan = vintages[("2026-01", "EI-12")]
    assert (jan.loans, jan.financed_fen, jan.bad) == (3, 2_100_001, (0, 0, 1, 1))
    assert jan.shares == (D("0"), D("0"), D("0.3333"), D("0.3333"))
    feb = vintages[("2026-02", "IF-MERCHANT")]
    # L4 is 35 days past due at the end of March, then written off in April: bad in both months.
    assert (feb.loans, feb.bad, feb.shares) == (2, (0, 1, 1), (D("0"), D("0.5"), D("0.5")))

    roll = portfolio.roll_rates(session)
    rows = {r.state: r for r in roll.rows}
    assert roll.last == "2026-03"
    assert (rows["current"].loans, rows["current"].to) == (8, {"current": 5, "d1_29": 2, "closed": 1})
    assert rows["current"].rates["d1_29"] == D("0.25") and rows["current"].cure_rate is None
    assert (rows["d1_29"].loans, rows["d1_29"].to) == (3, {"d30_59": 2, "current": 1})
    assert rows["d1_29"].cure_rate == D("0.3333")
    assert (rows["d30_59"].loans, rows["d30_59"].to) == (2, {"d60_89": 1, "written_off": 1})
    assert rows["d30_59"].cure_rate == D("0") and rows["d60_89"].loans == 0 and rows["d60_89"].cure_rate is None
    # One month only: February's month end to March's.
    feb_only = {r.state: r for r in portfolio.roll_rates(session, start="2026-02", end="2026-02").rows}
    assert feb_only["current"].to == {"current": 2} and feb_only["d1_29"].to == {"d30_59": 2, "current": 1}

    assert [(m.month, m.written_off_loans, m.written_off_fen, m.recovered_fen)
            for m in portfolio.losses(session)] == [("2026-04", 1, 300_000, 50_000)]

    day, el = portfolio.expected_loss(session)
    assert day == date(2026, 4, 30)
    by = {e.state: e for e in el}
    assert (by["current"].loans, by["current"].principal_fen, by["current"].expected_loss_fen) == (2, 1_133_333, 11_333)
    # 700,001 fen × 50% = 350,000.5 → 350,001 (half up)
    assert (by["d60_89"].loans, by["d60_89"].principal_fen, by["d60_89"].expected_loss_fen) == (1, 700_001, 350_001)
    assert by["d1_29"].loans == 0 and by["d90p"].expected_loss_fen == 0
    rates = portfolio.provision_rates({"current": "0.02"})
    assert {e.state: e.expected_loss_fen for e in portfolio.expected_loss(session, rates=rates)[1]}["current"] == 22_667


def test_bad_inputs_are_clear_errors() -> None:
    with pytest.raises(InvalidInput):
        portfolio.provision_rates({"current": "1.5"})
    with pytest.raises(InvalidInput):
        portfolio.provision_rates({"nonsense": "0.1"})
    with pytest.raises(InvalidInput):
        portfolio.parse_month("2026-13")


def test_provision_rates_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from fenqi.kit.settings import get_settings

    monkeypatch.setenv("FENQI_PROVISION_RATES", '{"d30_59": "0.35"}')
    get_settings.cache_clear()
    try:
        rates = portfolio.provision_rates()
        assert rates["d30_59"] == D("0.35") and rates["current"] == D("0.01")
        assert portfolio.provision_rates({"d30_59": "0.4"})["d30_59"] == D("0.4")
    finally:
        monkeypatch.delenv("FENQI_PROVISION_RATES")
        get_settings.cache_clear()
