"""The channels' daily statements in their real formats (written by the emulators, read by
`fenqi.payments.reconcile`).

- Alipay 业务明细 (bill_type=trade): a zip of two GBK CSV files, the detail with `#` preamble lines,
  a header of 25 columns, one line per payment or refund, a closing `#` block; and a summary file.
- WeChat Pay v3 交易账单 (bill_type=ALL): a header, each field of each line prefixed by a backtick
  (so spreadsheets keep long numbers as text), then a summary block of totals.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

ALIPAY_COLUMNS = (
    "支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称",
    "操作员", "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）",
    "支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）",
    "卡消费金额（元）", "退款批次号/请求号", "服务费（元）", "分润（元）", "备注",
)
WECHAT_COLUMNS = (
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
    "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额",
    "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额",
    "申请退款金额", "费率备注",
)
WECHAT_SUMMARY = ("总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额",
                  "申请退款总金额")
FEE_RATE = Decimal("0.006")


@dataclass(frozen=True)
class StatementLine:
    """One payment (kind "pay") or refund (kind "refund") as a channel reports it; amounts in fen,
    refunds positive here (the formats write them with their own signs)."""

    kind: str
    trade_no: str
    out_trade_no: str
    amount_fen: int
    created_at: datetime
    finished_at: datetime
    subject: str = ""
    refund_no: str = ""
    out_refund_no: str = ""
    buyer: str = ""
    trade_type: str = "NATIVE"
    # 花呗分期 (Alipay): periods (0: not) and the platform's fee, the merchant's part and the shopper's.
    hb_fq_num: int = 0
    hb_merchant_fee_fen: int = 0
    hb_shopper_fee_fen: int = 0
    hb_fee_returned_fen: int = 0  # a refund: the merchant's 花呗分期 fee given back with it


def hb_note(line: StatementLine) -> str:
    """The 备注 of a 花呗分期 payment: periods and both parts of the fee (no commas: it is a CSV field);
    of a refund that gives back part of the merchant's fee: that part."""
    if line.kind == "refund":
        return f"花呗分期手续费退回{_yuan(line.hb_fee_returned_fen)}" if line.hb_fee_returned_fen else ""
    if not line.hb_fq_num:
        return ""
    return (f"花呗分期{line.hb_fq_num}期 商家承担手续费{_yuan(line.hb_merchant_fee_fen)} "
            f"用户承担手续费{_yuan(line.hb_shopper_fee_fen)}")


def fee_fen(amount_fen: int) -> int:
    return int((Decimal(amount_fen) * FEE_RATE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _csv_field(text: str) -> str:
    # Commas would break the columns: Alipay replaces them in free text rather than quoting.
    return text.replace(",", "，").replace("\n", " ")


def _cn_time(moment: datetime) -> str:
    return moment.strftime("%Y年%m月%d日 %H:%M:%S")


def alipay_detail_csv(lines: Iterable[StatementLine], *, seller_id: str, day: date, exported_at: datetime,
                      covered_from: datetime | None = None) -> str:
    """`covered_from`: when the period the statement covers starts, if later than the day's start (an
    account opened that day)."""
    start = datetime(day.year, day.month, day.day, tzinfo=exported_at.tzinfo)
    first = max(start, covered_from.astimezone(exported_at.tzinfo)) if covered_from else start
    last = start.replace(hour=23, minute=59, second=59)
    out = io.StringIO()
    out.write("#支付宝业务明细查询\n")
    out.write(f"#账号：[{seller_id}]\n")
    out.write(f"#起始日期：[{_cn_time(first)}]   终止日期：[{_cn_time(last)}]\n")
    out.write("#-----------------------------------------业务明细列表----------------------------------------\n")
    out.write(",".join(ALIPAY_COLUMNS) + "\n")
    pays = refunds = 0
    zero = "0.00"
    for ln in lines:
        refund = ln.kind == "refund"
        amount = -ln.amount_fen if refund else ln.amount_fen
        fee = fee_fen(ln.amount_fen)
        # The merchant's part of a 花呗分期 fee is charged like the service fee: settled = amount − fees.
        # A refund gives back the service fee and its share of the merchant's 花呗分期 fee.
        service = fee + ln.hb_fee_returned_fen if refund else -(fee + (ln.hb_merchant_fee_fen if ln.hb_fq_num else 0))
        row = (
            ln.trade_no, ln.out_trade_no, "退款" if refund else "交易", _csv_field(ln.subject),
            _ts(ln.created_at), _ts(ln.finished_at), "", "", "", "", ln.buyer,
            _yuan(amount), _yuan(amount), zero, zero, zero, zero, zero, "", zero, zero,
            ln.out_refund_no, _yuan(service), zero, hb_note(ln),
        )
        out.write(",".join(row) + "\n")
        if refund:
            refunds += 1
        else:
            pays += 1
    out.write("#-----------------------------------------业务明细列表结束------------------------------------\n")
    out.write(f"#交易合计：{pays}笔，退款合计：{refunds}笔\n")
    out.write(f"#导出时间：[{exported_at.strftime('%Y年%m月%d日 %H:%M:%S')}]\n")
    return out.getvalue()


def alipay_statement_zip(lines: list[StatementLine], *, seller_id: str, day: date, exported_at: datetime,
                         covered_from: datetime | None = None) -> bytes:
    stamp = day.strftime("%Y%m%d")
    detail = alipay_detail_csv(lines, seller_id=seller_id, day=day, exported_at=exported_at,
                               covered_from=covered_from)
    pay_total = sum(ln.amount_fen for ln in lines if ln.kind == "pay")
    refund_total = sum(ln.amount_fen for ln in lines if ln.kind == "refund")
    summary = (
        "#支付宝业务汇总查询\n"
        f"#账号：[{seller_id}]\n"
        "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）\n"
        f",合计,{sum(1 for ln in lines if ln.kind == 'pay')},{sum(1 for ln in lines if ln.kind == 'refund')},"
        f"{_yuan(pay_total - refund_total)},{_yuan(pay_total - refund_total)}\n"
        f"#导出时间：[{exported_at.strftime('%Y年%m月%d日 %H:%M:%S')}]\n"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{seller_id}_{stamp}_业务明细.csv", detail.encode("gbk"))
        zf.writestr(f"{seller_id}_{stamp}_业务明细(汇总).csv", summary.encode("gbk"))
    return buf.getvalue()


def wechat_trade_bill(lines: Iterable[StatementLine], *, appid: str, mchid: str) -> str:
    out = io.StringIO()
    out.write(",".join(WECHAT_COLUMNS) + "\n")
    count = 0
    settled = refunded = fees = ordered = 0
    for ln in lines:
        refund = ln.kind == "refund"
        fee = fee_fen(ln.amount_fen)
        fee_text = f"{Decimal(-fee if refund else fee) / 100:.5f}"
        fields = (
            _ts(ln.finished_at), appid, mchid, "0", "", ln.trade_no, ln.out_trade_no,
            ln.buyer or "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            ln.trade_type, "REFUND" if refund else "SUCCESS", "OTHERS", "CNY",
            "0.00" if refund else _yuan(ln.amount_fen), "0.00",
            ln.refund_no if refund else "0", ln.out_refund_no if refund else "0",
            _yuan(ln.amount_fen) if refund else "0.00", "0.00", "ORIGINAL" if refund else "",
            "SUCCESS" if refund else "", _csv_field(ln.subject), "", fee_text, "0.60%",
            "0.00" if refund else _yuan(ln.amount_fen), _yuan(ln.amount_fen) if refund else "0.00", "",
        )
        out.write(",".join("`" + f for f in fields) + "\n")
        count += 1
        if refund:
            refunded += ln.amount_fen
            fees -= fee
        else:
            settled += ln.amount_fen
            ordered += ln.amount_fen
            fees += fee
    out.write(",".join(WECHAT_SUMMARY) + "\n")
    totals = (str(count), _yuan(settled), _yuan(refunded), "0.00", f"{Decimal(fees) / 100:.5f}", _yuan(ordered),
              _yuan(refunded))
    out.write(",".join("`" + f for f in totals) + "\n")
    return out.getvalue()


def wechat_trade_bill_gzip(lines: list[StatementLine], *, appid: str, mchid: str) -> bytes:
    return gzip.compress(wechat_trade_bill(lines, appid=appid, mchid=mchid).encode("utf-8"), compresslevel=6)
