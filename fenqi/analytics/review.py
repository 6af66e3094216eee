"""The monthly business review (月度经营分析) as a PDF in Chinese: the month's sales funnel with a bar chart
of its steps and why applications stopped, the campaigns' results (the funnel by campaign, budgets, coupons
and share links), portfolio quality at the month's end (buckets and expected loss, roll rates into the
month, write-offs) and product performance of the month.

Every figure comes from the same functions as the console and the CSV exports (funnel, portfolio,
products); the document is laid out with fpdf2 and the prepared Noto CJK font (`fenqi.kit.cjk_pdf`, as the
contract and the partner report are). Times are Beijing time; periods are business dates.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fpdf.enums import XPos, YPos
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.analytics import funnel as fn
from fenqi.analytics import portfolio as pf
from fenqi.analytics import products as pr
from fenqi.analytics import tables
from fenqi.kit.cjk_pdf import CjkPDF, render
from fenqi.kit.db import utcnow
from fenqi.kit.localtime import report_time
from fenqi.origination.contract_pdf import SC_INDEX, font_path
from fenqi.promotions import reporting as promotions_rep
from fenqi.promotions.service import list_campaigns

BLUE = (46, 110, 180)
KINDS = {"rate_cut": "减息券", "interest_free": "免息券"}


@dataclass(frozen=True, slots=True)
class Review:
    month: str
    start: date
    end: date
    funnel: fn.Funnel
    by_campaign: fn.Funnel
    by_link: fn.Funnel
    campaigns: tables.Table
    coupons: tables.Table
    expected_loss: tables.Table
    snapshot: date | None
    rolls: tables.Table
    losses: tables.Table
    products: tables.Table


def month_range(month: str) -> tuple[date, date]:
    index = pf.parse_month(month)
    year, m = divmod(index, 12)
    return date(year, m + 1, 1), date(year, m + 1, calendar.monthrange(year, m + 1)[1])


def review(session: Session, month: str) -> Review:
    """Every figure of the month's review (a clear error for a malformed month)."""
    start, end = month_range(month)
    index = pf.parse_month(month)
    latest = pf.latest_snapshot(session)
    snapshot = min(latest, end) if latest is not None and latest >= start else None
    day, el = pf.expected_loss(session, on=snapshot) if snapshot else (None, [])
    rows = pr.product_table(session, start=start, end=end)
    previous = pf.month_label(index - 1)
    return Review(
        month=month, start=start, end=end,
        funnel=fn.funnel(session, start=start, end=end),
        by_campaign=fn.funnel(session, start=start, end=end, dimension="campaign"),
        by_link=fn.funnel(session, start=start, end=end, dimension="share_link"),
        campaigns=_campaigns(session, start, end), coupons=_coupons(session, start, end),
        expected_loss=tables.expected_loss_table(el, "zh"), snapshot=day,
        rolls=tables.roll_table(pf.roll_rates(session, start=previous, end=previous), "zh"),
        losses=tables.loss_table([m for m in pf.losses(session) if m.month == month], "zh"),
        products=tables.product_table(rows, "zh"),
    )


def _campaigns(session: Session, start: date, end: date) -> tables.Table:
    running = [c for c in list_campaigns(session) if c.starts_on <= end and c.ends_on >= start]
    return tables.Table("campaigns", ["活动", "期间", "预算（元）", "已用（元）", "剩余（元）", "成交"], [
        [c.name_zh, f"{c.starts_on:%m-%d}至{c.ends_on:%m-%d}", _yuan(c.budget), _yuan(c.spent), _yuan(c.left),
         str(c.sales)] for c in running])


def _coupons(session: Session, start: date, end: date) -> tables.Table:
    r = promotions_rep.coupon_redemptions()
    found = session.execute(
        select(r.c.kind, func.count(), func.coalesce(func.sum(r.c.subsidy_fen), 0))
        .where(r.c.redeemed_on >= start, r.c.redeemed_on <= end).group_by(r.c.kind).order_by(r.c.kind)
    ).all()
    return tables.Table("coupons", ["优惠券", "核销张数", "商户承担成本（元）"],
                        [[KINDS.get(k, k), str(n), tables.yuan(int(s))] for k, n, s in found])


def _yuan(text: str) -> str:
    """"5000.00" → "5,000.00"."""
    return f"{Decimal(text):,.2f}"


# --- the document -----------------------------------------------------------------------------------------


class _Doc(CjkPDF):
    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("cjk", "", 7)
        self.cell(0, 5, f"月度经营分析 · 第 {self.page_no()} 页", align="C")


def review_pdf(session: Session, month: str) -> bytes:
    figures = review(session, month)

    def make(prepared: bool) -> CjkPDF:
        doc = _Doc(orientation="L", format="A4")
        doc.add_cjk_font("cjk", font_path(), SC_INDEX, prepared=prepared)
        doc.set_margins(12, 12, 12)
        doc.set_auto_page_break(True, 14)
        return doc

    return render(make, lambda doc: _write(doc, figures))


def _line(doc: CjkPDF, text: str, size: float = 9, height: float = 5.5) -> None:
    doc.set_font("cjk", "", size)
    doc.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _heading(doc: CjkPDF, text: str) -> None:
    doc.ln(2)
    if doc.get_y() > doc.h - 50:
        doc.add_page()
    _line(doc, text, 13, 8)


def _write(doc: CjkPDF, r: Review) -> None:
    doc.add_page()
    _line(doc, f"月度经营分析 {r.month}", 18, 10)
    _line(doc, f"统计期：{r.start.isoformat()} 至 {r.end.isoformat()}（业务日期）    生成时间：{report_time(utcnow())}")
    _line(doc, "数据与运营后台“经营分析”页及各 CSV 导出同源；金额单位为元。", 8, 5)

    _heading(doc, "一、销售漏斗")
    total = r.funnel.rows[0] if r.funnel.rows else None
    if total is None:
        _line(doc, "本月没有申请。")
    else:
        steps = [(zh, total.counts.get(step)) for step, zh, _ in fn.STEPS]
        bar_chart(doc, [(zh, n or 0) for zh, n in steps], title="各环节数量")
        conv = total.conversion
        table(doc, tables.Table("steps", ["环节", "数量", "较上一环节转化率", "距上一环节用时中位数"], [
            [zh, "—" if total.counts.get(step) is None else f"{total.counts[step]:,}", tables.pct(conv[step]),
             tables.duration(total.median_seconds.get(step), "zh")] for step, zh, _ in fn.STEPS]))
        _line(doc, f"整体转化率（交付 / 申请）：{tables.pct(total.overall)}；审批通过 {total.approved:,} 笔。", 9)
        if r.funnel.drop_offs:
            doc.ln(1)
            table(doc, tables.drop_off_table(r.funnel, "zh"))

    _heading(doc, "二、活动成效")
    _funnel_rows(doc, r.by_campaign, "按活动")
    if r.campaigns.rows:
        table(doc, r.campaigns)
    _line(doc, "优惠券核销" + ("：" if r.coupons.rows else "：本月没有核销。"), 10)
    if r.coupons.rows:
        table(doc, r.coupons)
    linked = [row for row in r.by_link.rows if row.key]
    _funnel_rows(doc, fn.Funnel("share_link", r.start, r.end, linked[:10]), "分享链接（前十）") if linked else \
        _line(doc, "分享链接：本月没有经分享链接的申请。", 10)

    _heading(doc, "三、资产质量")
    at = r.snapshot.isoformat() if r.snapshot else "—"
    _line(doc, f"月末逾期分布与预期损失（快照日 {at}）", 10)
    table(doc, r.expected_loss)
    _line(doc, "上月末至本月末的迁徙率", 10)
    table(doc, r.rolls)
    _line(doc, "本月核销与回收" + ("" if r.losses.rows else "：无"), 10)
    if r.losses.rows:
        table(doc, r.losses)

    _heading(doc, "四、产品表现")
    if r.products.rows:
        table(doc, r.products, size=6.5)
    else:
        _line(doc, "本月没有申请。")


def _funnel_rows(doc: CjkPDF, f: fn.Funnel, title: str) -> None:
    _line(doc, title, 10)
    head = ["分组", "申请", "审批通过", "签约", "首付已付", "交付", "签约率（签约/申请）"]
    body = [[row.zh, *(f"{row.counts.get(s) or 0:,}" if s != "approved" else f"{row.approved:,}"
                       for s in ("applied", "approved", "signed", "paid", "handed_over")),
             tables.pct(pf.rate(row.counts.get("signed") or 0, row.counts.get("applied") or 0))] for row in f.rows]
    table(doc, tables.Table("by", head, body))


def bar_chart(doc: CjkPDF, bars: list[tuple[str, int]], *, title: str, height: float = 42) -> None:
    """Vertical bars with their values and labels, drawn with fpdf2's rectangles and lines."""
    if doc.get_y() + height + 16 > doc.h - doc.b_margin:
        doc.add_page()
    top = doc.get_y() + 6
    left, width = doc.l_margin + 10, 150
    _line(doc, title, 9)
    peak = max((v for _, v in bars), default=0) or 1
    slot = width / max(len(bars), 1)
    doc.set_draw_color(120, 120, 120)
    doc.line(left, top + height, left + width, top + height)
    doc.set_fill_color(*BLUE)
    doc.set_font("cjk", "", 8)
    for i, (name, value) in enumerate(bars):
        h = height * value / peak
        x = left + i * slot + slot * 0.2
        if h > 0:
            doc.rect(x, top + height - h, slot * 0.6, h, style="F")
        doc.set_xy(left + i * slot, top + height - h - 5)
        doc.cell(slot, 5, f"{value:,}", align="C")
        doc.set_xy(left + i * slot, top + height + 1)
        doc.cell(slot, 5, name, align="C")
    doc.set_xy(doc.l_margin, top + height + 8)


def table(doc: CjkPDF, data: tables.Table, size: float = 7.5) -> None:
    """A table across the page: columns as wide as their widest text, scaled to fit."""
    doc.set_font("cjk", "", size)
    usable = doc.w - doc.l_margin - doc.r_margin
    cells = [data.columns, *data.rows]
    widths = [max(doc.get_string_width(row[i]) for row in cells) + 3 for i in range(len(data.columns))]
    scale = min(1.0, usable / sum(widths))
    widths = [w * scale for w in widths]
    row_h = size * 0.6
    for k, row in enumerate(cells):
        if doc.get_y() + row_h > doc.h - doc.b_margin:
            doc.add_page()
            doc.set_font("cjk", "", size)
        if k == 0:
            doc.set_fill_color(230, 236, 245)
        for i, text in enumerate(row):
            fitted = text
            while fitted and doc.get_string_width(fitted) > widths[i] - 1:
                fitted = fitted[:-1]
            doc.cell(widths[i], row_h, fitted, border=1, align="C" if k == 0 else "R" if i else "L", fill=k == 0)
        doc.ln(row_h)
    doc.ln(1.5)
