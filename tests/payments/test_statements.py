"""Statement formats (written as the channels write them, read back) and the matching rules."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fenqi.payments.emulators.core import CST
from fenqi.payments.emulators.statements import (
    ALIPAY_COLUMNS,
    StatementLine,
    alipay_statement_zip,
    wechat_trade_bill,
)
from fenqi.payments.reconcile import Ours, Report, match
from fenqi.payments.statement_parsers import BadStatement, Entry, fen, parse_alipay, parse_wechat

DAY = date(2026, 11, 28)
AT = datetime(2026, 11, 28, 10, 30, tzinfo=CST)
LINES = [
    StatementLine("pay", "2026112822001", "FQ_A", 599_900, AT, AT, "iPhone 16, 首付"),
    StatementLine("pay", "2026112822002", "FQ_B", 1, AT, AT, "月供"),
    StatementLine("refund", "2026112822001", "FQ_A", 100_000, AT, AT, "退款", "R1", "RF_A1"),
]


def test_alipay_zip_is_gbk_with_preamble_and_25_columns() -> None:
    content = alipay_statement_zip(LINES, seller_id="2088000000000001", day=DAY, exported_at=AT)
    archive = zipfile.ZipFile(io.BytesIO(content))
    [detail] = [n for n in archive.namelist() if n.endswith("业务明细.csv")]
    text = archive.read(detail).decode("gbk")
    lines = text.splitlines()
    assert lines[0] == "#支付宝业务明细查询" and lines[-1].startswith("#导出时间")
    header = next(ln for ln in lines if not ln.startswith("#"))
    assert len(header.split(",")) == 25 == len(ALIPAY_COLUMNS)
    assert "iPhone 16， 首付" in text  # a comma in free text cannot break the columns
    assert parse_alipay(content) == [
        Entry("pay", "FQ_A", 599_900, "2026112822001"), Entry("pay", "FQ_B", 1, "2026112822002"),
        Entry("refund", "FQ_A", 100_000, "2026112822001", "RF_A1"),
    ]


def test_wechat_bill_has_backticks_and_a_checked_summary() -> None:
    text = wechat_trade_bill(LINES, appid="wx1", mchid="1900000001")
    rows = text.splitlines()
    assert rows[1].startswith("`2026-11-28 10:30:00,`wx1,`1900000001")
    assert rows[-2].startswith("总交易单数") and rows[-1].startswith("`3,`5999.01,`1000.00")
    assert parse_wechat(text.encode()) == [
        Entry("pay", "FQ_A", 599_900, "2026112822001"), Entry("pay", "FQ_B", 1, "2026112822002"),
        Entry("refund", "FQ_A", 100_000, "2026112822001", "RF_A1"),
    ]
    broken = text.replace("\n`3,", "\n`4,")
    with pytest.raises(BadStatement):
        parse_wechat(broken.encode())


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_garbage_is_refused(content: bytes) -> None:
    with pytest.raises(BadStatement):
        parse_alipay(content)
    with pytest.raises(BadStatement):
        parse_wechat(content)


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_amounts_round_trip_exactly(amount_fen: int) -> None:
    sign = "-" if amount_fen < 0 else ""
    text = f"{sign}{abs(amount_fen) // 100}.{abs(amount_fen) % 100:02d}"
    assert fen(text) == amount_fen


@given(st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=30))
def test_both_formats_carry_every_amount(amounts: list[int]) -> None:
    lines = [StatementLine("pay", f"T{i}", f"FQ_{i}", a, AT, AT) for i, a in enumerate(amounts)]
    zipped = alipay_statement_zip(lines, seller_id="2088", day=DAY, exported_at=AT)
    bill = wechat_trade_bill(lines, appid="wx", mchid="1").encode()
    assert [e.amount_fen for e in parse_alipay(zipped)] == amounts == [e.amount_fen for e in parse_wechat(bill)]


def test_match_sorts_every_kind_of_difference() -> None:
    entries = [
        Entry("pay", "OK", 100), Entry("pay", "AMOUNT", 101), Entry("pay", "UNKNOWN", 5),
        Entry("pay", "LATE", 300), Entry("refund", "OK", 40, out_refund_no="R_OK"),
        Entry("refund", "OK", 10, out_refund_no="R_STRANGE"), Entry("refund", "OK", 20, out_refund_no="R_PENDING"),
    ]
    ours = {"OK": Ours("OK", 100, "paid", True), "AMOUNT": Ours("AMOUNT", 100, "paid", True),
            "MISSING": Ours("MISSING", 700, "paid", True)}
    others = {"LATE": Ours("LATE", 300, "closed", False)}
    refunds = {"R_OK": ("OK", 40, "succeeded"), "R_PENDING": ("OK", 20, "processing"), "R_GONE": ("OK", 9, "succeeded")}
    report = Report("alipay", DAY)
    match(entries, ours, others, refunds, report)
    got = sorted((f.category, f.out_trade_no, f.out_refund_no, f.action) for f in report.findings)
    assert got == [
        ("amount_mismatch", "AMOUNT", "", "investigate_amount"),
        ("long", "LATE", "", "settle_order"),
        ("long", "UNKNOWN", "", "refund_payer"),
        ("short", "MISSING", "", "query_and_reverse"),
        ("short", "OK", "R_GONE", "query_refund"),
        ("status_mismatch", "OK", "R_PENDING", "mark_refund_succeeded"),
        ("status_mismatch", "OK", "R_STRANGE", "record_refund"),
    ]
    assert report.matched == 2
    assert report.channel_total_fen == 100 + 101 + 5 + 300 - 40 - 10 - 20
    assert report.our_total_fen == 100 + 100 + 700 - 40 - 9
