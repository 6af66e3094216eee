"""The analytics tables as labelled rows (zh-CN or English), for the console pages and the CSV exports.

A CSV is UTF-8 with a byte-order mark (so that Excel opens Chinese text), amounts in yuan, rates as
percentages, times of day in Beijing time (Asia/Shanghai)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fenqi.analytics import funnel as fn
from fenqi.analytics import portfolio as pf
from fenqi.analytics import products as pr
from fenqi.kit.money import from_fen

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: list[str]
    rows: list[list[str]]
    keys: list[str] | None = None  # each row's anchor on the page (suggestions link to them)


def t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def yuan(fen: int) -> str:
    return f"{from_fen(int(fen)):,.2f}"


def pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{(value * 100).quantize(Decimal('0.01'))}%"


def duration(seconds: int | None, lang: str) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return t(lang, f"{seconds}秒", f"{seconds} s")
    if seconds < 3600:
        return t(lang, f"{seconds // 60}分{seconds % 60}秒", f"{seconds // 60} min {seconds % 60} s")
    return t(lang, f"{seconds // 3600}小时{seconds % 3600 // 60}分", f"{seconds // 3600} h {seconds % 3600 // 60} min")


def beijing(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def csv_filename(name: str, now: datetime) -> str:
    """`funnel-20260430-1205.csv`: the table and when it was drawn up, in Beijing time."""
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)
    return f"{name}-{aware.astimezone(BEIJING):%Y%m%d-%H%M}.csv"


def label(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def funnel_table(f: fn.Funnel, lang: str) -> Table:
    steps = fn.STEPS
    cols = [label(fn.DIMENSIONS[f.dimension], lang)]
    for i, (_, zh, en) in enumerate(steps):
        cols.append(t(lang, zh, en))
        if i:
            cols.append(t(lang, f"{zh}转化率", f"{en} conversion"))
            cols.append(t(lang, f"{zh}用时中位数", f"{en} median time"))
    cols += [t(lang, "审批通过", "Approved"), t(lang, "整体转化率", "Overall conversion")]
    rows = []
    for r in f.rows:
        conv = r.conversion
        line = [r.zh if lang == "zh" else r.en]
        for i, (step, _, _) in enumerate(steps):
            n = r.counts.get(step)
            line.append("—" if n is None else str(n))
            if i:
                line.append(pct(conv[step]))
                line.append(duration(r.median_seconds.get(step), lang))
        line += [str(r.approved), pct(r.overall)]
        rows.append(line)
    return Table("funnel", cols, rows)


def drop_off_table(f: fn.Funnel, lang: str) -> Table:
    return Table("drop_offs", [t(lang, "流失原因", "Reason"), t(lang, "申请数", "Applications")],
                 [[d.zh if lang == "zh" else d.en, str(d.count)] for d in f.drop_offs])


def vintage_table(vintages: list[pf.Vintage], lang: str) -> Table:
    months = max((len(v.bad) for v in vintages), default=0)
    cols = [t(lang, "放款月份", "Booking month"), t(lang, "产品", "Product"), t(lang, "放款笔数", "Loans"),
            t(lang, "放款金额（元）", "Financed (¥)")]
    cols += [t(lang, f"账龄{k}个月", f"MOB {k}") for k in range(months)]
    rows = []
    for v in vintages:
        shares = [pct(s) for s in v.shares] + [""] * (months - len(v.bad))
        rows.append([v.month, v.name_zh if lang == "zh" else v.name_en, str(v.loans), yuan(v.financed_fen), *shares])
    return Table("vintages", cols, rows)


def roll_table(matrix: pf.RollMatrix, lang: str) -> Table:
    cols = [t(lang, "月末状态", "State at month end"), t(lang, "笔数", "Loans")]
    cols += [t(lang, f"次月→{pf.STATE_LABELS[s][0]}", f"Next → {pf.STATE_LABELS[s][1]}") for s in pf.STATES]
    cols.append(t(lang, "治愈率", "Cure rate"))
    rows = []
    for r in matrix.rows:
        rates = r.rates
        rows.append([label(pf.STATE_LABELS[r.state], lang), str(r.loans),
                     *[f"{r.to.get(s, 0)} ({pct(rates[s])})" for s in pf.STATES], pct(r.cure_rate)])
    return Table("roll_rates", cols, rows)


def loss_table(months: list[pf.LossMonth], lang: str) -> Table:
    cols = [t(lang, "月份", "Month"), t(lang, "核销笔数", "Loans written off"),
            t(lang, "核销金额（元）", "Written off (¥)"), t(lang, "回收金额（元）", "Recovered (¥)")]
    return Table("losses", cols, [[m.month, str(m.written_off_loans), yuan(m.written_off_fen),
                                   yuan(m.recovered_fen)] for m in months])


def expected_loss_table(rows: list[pf.ExpectedLoss], lang: str) -> Table:
    cols = [t(lang, "逾期档", "Bucket"), t(lang, "笔数", "Loans"), t(lang, "本金余额（元）", "Principal (¥)"),
            t(lang, "计提比例", "Provision rate"), t(lang, "预期损失（元）", "Expected loss (¥)")]
    body = [[label(pf.STATE_LABELS[e.state], lang), str(e.loans), yuan(e.principal_fen), pct(e.provision_rate),
             yuan(e.expected_loss_fen)] for e in rows]
    body.append([t(lang, "合计", "Total"), str(sum(e.loans for e in rows)), yuan(sum(e.principal_fen for e in rows)),
                 "", yuan(sum(e.expected_loss_fen for e in rows))])
    return Table("expected_loss", cols, body)


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark (Excel then reads Chinese), CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def product_table(rows: list[pr.ProductRow], lang: str) -> Table:
    cols = [t(lang, "产品", "Product"), t(lang, "期数", "Term"), t(lang, "申请数", "Applications"),
            t(lang, "审批通过率", "Approval rate"), t(lang, "签约率", "Take-up"), t(lang, "放款笔数", "Loans"),
            t(lang, "销量占比", "Share of loans"), t(lang, "放款金额（元）", "Financed (¥)"),
            t(lang, "加权年化", "APR (weighted)"), t(lang, "30天以上逾期率", "30+ dpd rate"),
            t(lang, "核销金额（元）", "Written off (¥)"), t(lang, "损失率", "Loss rate"),
            t(lang, "商户贴息（元）", "Merchant subsidy (¥)"), t(lang, "每单贴息（元）", "Subsidy per sale (¥)"),
            t(lang, "资金方利差", "Funder margin")]
    body = [[r.name_zh if lang == "zh" else r.name_en, str(r.term), str(r.applications), pct(r.approval_rate),
             pct(r.take_up), str(r.loans), pct(r.share), yuan(r.financed_fen), pct(r.apr), pct(r.bad_rate),
             yuan(r.written_off_fen), pct(r.loss_rate), yuan(r.subsidy_fen),
             "—" if r.subsidy_per_sale_fen is None else yuan(r.subsidy_per_sale_fen), pct(r.funder_margin)]
            for r in rows]
    return Table("products", cols, body, [r.key for r in rows])


def store_table(rows: list[pr.StoreRow], lang: str) -> Table:
    cols = [t(lang, "门店", "Store"), t(lang, "放款笔数", "Loans"), t(lang, "30天以上逾期笔数", "Loans 30+ dpd"),
            t(lang, "30天以上逾期率", "30+ dpd rate"), t(lang, "其他门店逾期率", "Peers' 30+ dpd rate")]
    return Table("stores", cols, [[s.name, str(s.loans), str(s.bad_loans), pct(s.bad_rate), pct(s.peer_bad_rate)]
                                  for s in rows], [str(s.store_id) for s in rows])


def suggestion_table(rows: list[pr.Suggestion], lang: str) -> Table:
    cols = [t(lang, "建议", "Suggestion"), t(lang, "依据", "Evidence")]
    return Table("suggestions", cols, [[s.zh if lang == "zh" else s.en,
                                        "；".join(f"{k}={v}" for k, v in s.figures.items())] for s in rows])
