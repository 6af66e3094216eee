"""Readers of the channels' daily statements (the formats `emulators.statements` writes and the
real channels serve). Tuned for size: a million lines parse in a couple of seconds."""

from __future__ import annotations

import gc
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import NamedTuple

from fenqi.kit.errors import DomainError
from fenqi.payments.emulators.core import CST
from fenqi.payments.emulators.statements import ALIPAY_COLUMNS, WECHAT_COLUMNS


class BadStatement(DomainError):
    code = "bad_statement"
    status = 502
    zh = "渠道对账单格式无法识别：{detail}"
    en = "The channel statement cannot be read: {detail}"


class Entry(NamedTuple):
    """One statement line: kind "pay" or "refund", amounts positive fen (a tuple: a million are made)."""

    kind: str
    out_trade_no: str
    amount_fen: int
    trade_no: str = ""
    out_refund_no: str = ""
    note: str = ""  # Alipay's 备注 of a 花呗分期 payment (periods and fees) or refund (fee returned), else empty


def fen(text: str) -> int:
    """"59.99" → 5999, "-12.5" → -1250, exact (no float, no Decimal per line)."""
    if len(text) > 3 and text[-3] == "." and text[-2:].isdigit():
        try:
            return int(text[:-3] + text[-2:])  # the usual two decimals: one int() call
        except ValueError:
            pass
    text = text.strip()
    negative = text.startswith("-")
    whole, _, frac = text.lstrip("+-").partition(".")
    if len(frac) > 2 or not (whole or frac) or not (whole or "0").isdigit() or (frac and not frac.isdigit()):
        raise BadStatement(f"amount {text!r}")
    value = int(whole or "0") * 100 + int((frac + "00")[:2])
    return -value if negative else value


@contextmanager
def bulk() -> Iterator[None]:
    """No cyclic garbage collection while a million small objects are made: they hold no cycles, and
    the collector would walk them again and again (a third of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _alipay_detail(content: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise BadStatement("alipay: not a zip") from None
    names = [n for n in archive.namelist() if n.endswith("业务明细.csv")]
    if len(names) != 1:
        raise BadStatement("alipay: no 业务明细.csv in the zip")
    return archive.read(names[0]).decode("gbk")


_PERIOD = re.compile(r"#起始日期：\[(\d{4})年(\d{2})月(\d{2})日 (\d{2}):(\d{2}):(\d{2})\]\s*"
                     r"终止日期：\[(\d{4})年(\d{2})月(\d{2})日 (\d{2}):(\d{2}):(\d{2})\]")


def alipay_period(content: bytes) -> tuple[datetime, datetime] | None:
    """The period the 业务明细 says it covers (`#起始日期：[…] 终止日期：[…]`, China time), end exclusive;
    None when the preamble does not say."""
    found = _PERIOD.search(_alipay_detail(content)[:2000])
    if found is None:
        return None
    n = [int(x) for x in found.groups()]
    start = datetime(n[0], n[1], n[2], n[3], n[4], n[5], tzinfo=CST)
    end = datetime(n[6], n[7], n[8], n[9], n[10], n[11], tzinfo=CST) + timedelta(seconds=1)
    return start, max(start, end)


def parse_alipay(content: bytes) -> list[Entry]:
    """业务明细 in the zip: GBK, `#` preamble and closing lines, 25 columns, refunds negative."""
    text = _alipay_detail(content)
    entries: list[Entry] = []
    header_seen = False
    width = len(ALIPAY_COLUMNS)
    append, make = entries.append, tuple.__new__
    for raw in text.splitlines():
        if not raw or raw[0] == "#":
            continue
        if not header_seen:
            if tuple(f.strip() for f in raw.split(",")) != ALIPAY_COLUMNS:
                raise BadStatement("alipay: unexpected header")
            header_seen = True
            continue
        fields = raw.split(",", 22)  # up to 退款批次号/请求号; the rest is counted, not cut up
        if len(fields) != 23 or fields[22].count(",") != width - 23:
            raise BadStatement("alipay: wrong number of columns in a line")
        # Alipay pads some fields with tabs and spaces; only the ones we read are cleaned.
        amount = fen(fields[11].strip())
        tail = fields[22]
        note = tail[tail.rfind(",") + 1:]
        note = note.strip() if note.startswith("花呗") else ""
        if fields[2].strip() == "退款":
            append(make(Entry, ("refund", fields[1].strip(), -amount, fields[0].strip(), fields[21].strip(), note)))
        else:
            append(make(Entry, ("pay", fields[1].strip(), amount, fields[0].strip(), "", note)))
    if not header_seen:
        raise BadStatement("alipay: no header")
    return entries


def parse_wechat(content: bytes) -> list[Entry]:
    """交易账单 (ALL): a header, backtick-prefixed fields, then the summary block (checked)."""
    text = content.decode("utf-8-sig")
    lines = text.splitlines()
    if not lines or tuple(lines[0].split(",")) != WECHAT_COLUMNS:
        raise BadStatement("wechatpay: unexpected header")
    entries: list[Entry] = []
    summary_at = None
    width = len(WECHAT_COLUMNS)
    append, make = entries.append, tuple.__new__  # tuple.__new__(Entry, ...): an Entry without a Python call
    try:  # free in Python 3.11 unless raised: a malformed amount becomes BadStatement, not a crash
        for index in range(1, len(lines)):
            raw = lines[index]
            if not raw:
                continue
            if raw[0] != "`":  # the summary block's header ends the lines
                if raw.startswith("总交易单数"):
                    summary_at = index
                    break
                raise BadStatement(f"wechatpay: line {index + 1} does not start with a backtick")
            # Every field starts with a backtick (spreadsheets then keep long numbers as text): one split,
            # and only as far as the last field we read; the rest is counted, not cut up.
            f = raw[1:].split(",`", 17)
            if len(f) != 18 or f[17].count(",") != width - 18:
                raise BadStatement(f"wechatpay: wrong number of columns in line {index + 1}")
            if f[9] == "REFUND":
                append(make(Entry, ("refund", f[6], fen(f[16]), f[5], f[15], "")))
            else:
                amount = f[12]
                # The usual "123.45": one int() without a function call per line; anything else via fen().
                fen_ = int(amount[:-3] + amount[-2:]) if amount[-3:-2] == "." and amount[-2:].isdigit() else fen(amount)
                append(make(Entry, ("pay", f[6], fen_, f[5], "", "")))
    except ValueError as exc:
        raise BadStatement(f"wechatpay: {exc}") from None
    if summary_at is None or summary_at + 1 >= len(lines):
        raise BadStatement("wechatpay: no summary block")
    try:
        count = int(lines[summary_at + 1].split(",")[0].lstrip("`"))
    except ValueError:
        raise BadStatement("wechatpay: unreadable summary") from None
    if count != len(entries):
        raise BadStatement(f"wechatpay: summary says {count} lines, found {len(entries)}")
    return entries


PARSERS = {"alipay": parse_alipay, "wechatpay": parse_wechat}
