"""The product performance table, the stores' delinquency and the suggestions, from the known book."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from fenqi.analytics import products as pr
from tests.analytics.book import _loan, build

D = Decimal
PERIOD = {"start": date(2026, 1, 1), "end": date(2026, 4, 30)}


def test_product_table_stores_and_suggestions(session: Session) -> None:
    book = build(session)
    rows = {r.key: r for r in pr.product_table(session, **PERIOD)}
    ei = rows["EI-12-12"]
    # A1, A2, A5 and A7 (February); A7 declined: decided 3, approved 2, both signed.
    assert (ei.applications, ei.decided, ei.approved, ei.signed) == (4, 3, 2, 2)
    assert (ei.approval_rate, ei.take_up) == (D("0.6667"), D("1"))
    assert (ei.loans, ei.financed_fen, ei.bad_loans, ei.written_off_fen) == (3, 2_100_001, 1, 0)
    assert (ei.apr, ei.funder_margin, ei.bad_rate, ei.loss_rate) == (D("0.12"), D("0.04"), D("0.3333"), D("0"))
    assert (ei.subsidy_per_sale_fen, ei.share) == (0, D("0.6"))
    inf = rows["IF-MERCHANT-6"]
    assert (inf.applications, inf.decided, inf.approved, inf.signed, inf.subsidy_per_sale_fen) == (2, 2, 1, 1, 12_000)
    assert (inf.loans, inf.financed_fen, inf.bad_loans, inf.written_off_fen) == (2, 633_333, 1, 300_000)
    assert (inf.apr, inf.funder_margin, inf.loss_rate, inf.share) == (D("0"), D("-0.08"), D("0.4737"), D("0.4"))
    six = rows["EI-12-6"]
    assert (six.applications, six.approved, six.signed, six.take_up, six.loans, six.apr) == (1, 1, 0, D("0"), 0, None)

    stores = {s.store_id: s for s in pr.store_table(session, **PERIOD)}
    assert (stores[book.s1].loans, stores[book.s1].bad_loans, stores[book.s1].bad_rate) == (2, 1, D("0.5"))
    assert (stores[book.s2].loans, stores[book.s2].bad_rate, stores[book.s2].peer_bad_rate) == (1, D("1"), D("0.5"))

    found = pr.suggestions(list(rows.values()), list(stores.values()), min_loans=1)
    assert [(s.kind, s.evidence) for s in found] == [
        ("store_delinquency", [{"table": "stores", "key": str(book.s2), "zh": "分析二店", "en": "分析二店"}])]
    assert "分析二店" in found[0].zh and found[0].figures == {"bad_rate": "100.0%", "peer_bad_rate": "50.0%",
                                                          "loans": "1"}
    # Two more interest-free sales in March: it now sells 4 against 3, costs ¥120.00 per signed sale.
    _loan(session, 1, "IF-MERCHANT", 6, date(2026, 3, 3))
    _loan(session, 2, "IF-MERCHANT", 6, date(2026, 3, 4))
    rows = {r.key: r for r in pr.product_table(session, **PERIOD)}
    found = pr.suggestions(list(rows.values()), [], sales_ratio=D("1.2"), min_loans=1)
    trade = [s for s in found if s.kind == "subsidy_tradeoff"]
    assert [[e["key"] for e in s.evidence] for s in trade] == [["IF-MERCHANT-6", "EI-12-12"]]
    assert trade[0].evidence[0]["zh"] == "商户贴息 免息 6期"
    assert trade[0].figures == {"sales_ratio": "1.3", "subsidy_per_sale_a": "¥120.00", "subsidy_per_sale_b": "¥0.00",
                                "volume_kept": "75.0%"}
    assert not pr.suggestions(list(rows.values()), [], min_loans=1) or all(
        s.kind != "subsidy_tradeoff" for s in pr.suggestions(list(rows.values()), [], min_loans=1))
