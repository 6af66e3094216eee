"""Readers of the channels' daily statements (the formats `emulators.statements` writes and the
real channels serve). Tuned for size: a million lines parse in a couple of seconds."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from fenqi.kit.errors import DomainError
from fenqi.payments.emulators.statements import ALIPAY_COLUMNS, WECHAT_COLUMNS


class BadStatement(DomainError):
    code = "bad_statement"
    status = 502
    zh = "渠道对账单格式无法识别：{detail}"
    en = "The channel statement cannot be read: {detail}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One statement line: kind "pay" or "refund", amounts positive fen."""

    kind: str
    out_trade_no: str
    amount_fen: int
    trade_no: str = ""
    out_refund_no: str = ""


def fen(text: str) -> int:
    """"59.99" → 5999, "-12.5" → -1250, exact (no float, no Decimal per line)."""
    text = text.strip()
    negative = text.startswith("-")
    whole, _, frac = text.lstrip("+-").partition(".")
    if len(frac) > 2 or not (whole or frac):
        raise BadStatement(f"amount {text!r}")
    value = int(whole or "0") * 100 + int((frac + "00")[:2])
    return -value if negative else value


def parse_alipay(content: bytes) -> list[Entry]:
    """业务明细 in the zip: GBK, `#` preamble and closing lines, 25 columns, refunds negative."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise BadStatement("alipay: not a zip") from None
    names = [n for n in archive.namelist() if n.endswith("业务明细.csv")]
    if len(names) != 1:
        raise BadStatement("alipay: no 业务明细.csv in the zip")
    text = archive.read(names[0]).decode("gbk")
    entries: list[Entry] = []
    header_seen = False
    for raw in text.splitlines():
        if not raw or raw.startswith("#"):
            continue
        fields = [f.strip() for f in raw.split(",")]
        if not header_seen:
            if tuple(fields) != ALIPAY_COLUMNS:
                raise BadStatement("alipay: unexpected header")
            header_seen = True
            continue
        if len(fields) != len(ALIPAY_COLUMNS):
            raise BadStatement(f"alipay: {len(fields)} columns in a line")
        refund = fields[2] == "退款"
        amount = fen(fields[11])
        entries.append(Entry("refund" if refund else "pay", fields[1], -amount if refund else amount, fields[0],
                             fields[21] if refund else ""))
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
    for index, raw in enumerate(lines[1:], start=1):
        if raw.startswith("总交易单数"):
            summary_at = index
            break
        if not raw:
            continue
        fields = [f[1:] if f.startswith("`") else f for f in raw.split(",")]
        if len(fields) != len(WECHAT_COLUMNS):
            raise BadStatement(f"wechatpay: {len(fields)} columns in a line")
        if fields[9] == "REFUND":
            entries.append(Entry("refund", fields[6], fen(fields[16]), fields[5], fields[15]))
        else:
            entries.append(Entry("pay", fields[6], fen(fields[12]), fields[5]))
    if summary_at is None or summary_at + 1 >= len(lines):
        raise BadStatement("wechatpay: no summary block")
    count = int(lines[summary_at + 1].split(",")[0].lstrip("`"))
    if count != len(entries):
        raise BadStatement(f"wechatpay: summary says {count} lines, found {len(entries)}")
    return entries


PARSERS = {"alipay": parse_alipay, "wechatpay": parse_wechat}
