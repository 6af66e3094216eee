"""The partner comparison for a management meeting: CSV (UTF-8 with a BOM, so spreadsheet programs read the
Chinese) and a PDF report in Chinese (Noto CJK, the contract PDF's font) with a bar chart of the totals."""

from __future__ import annotations

import csv
import io

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from fenqi.kit.cjk_pdf import CjkPDF, render
from fenqi.kit.db import utcnow
from fenqi.kit.localtime import csv_time, report_time
from fenqi.origination.contract_pdf import SC_INDEX, font_path
from fenqi.partners.indicators import CRITERIA, INDICATORS, ROLE_LABELS, fmt_value
from fenqi.partners.pilots import ALL_METRICS as METRICS
from fenqi.partners.pilots import Result
from fenqi.partners.scorecard import Card, Row

BOM = "\ufeff"
SHORT = {"stability": "稳定安全", "market": "用户与份额", "cost": "费率成本", "credit": "授信要求",
         "flexibility": "还款灵活", "service": "服务质量"}  # table headings


def comparison_csv(card: Card) -> bytes:
    """One line per partner and indicator: rank, total, criterion, indicator, value, sample size, window or
    source — and one line per partner with its criterion scores."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["角色", "名次", "合作方", "编号", "总分", "标准", "标准得分", "权重", "指标", "数值", "指标得分",
                "样本量", "统计期或来源"])
    for role, rows in card.groups.items():
        for r in rows:
            total = "" if r.total is None else str(r.total)
            for c, (zh, _) in CRITERIA.items():
                crit = r.criteria.get(c)
                crit_text = "" if crit is None else str(crit)
                for ind in INDICATORS:
                    v = r.values.get(ind.key)
                    if ind.criterion != c or v is None:
                        continue
                    score = r.scores.get(ind.key)
                    w.writerow([ROLE_LABELS[role][0], r.rank, r.name, r.code, total, zh, crit_text,
                                str(card.weights[c]), ind.zh, "" if v.value is None else str(v.value),
                                "" if score is None else str(score), "" if v.n is None else v.n, v.basis])
    return (BOM + out.getvalue()).encode("utf-8")


class _Report(CjkPDF):
    base_text = "合作方评估报告统计期至业务日期权重排名总分样本量指标明细第页"

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", "", 8)
        self.cell(0, 6, f"第 {self.page_no()} 页", align="C")


def comparison_pdf(card: Card) -> bytes:
    def make(prepared: bool) -> CjkPDF:
        doc = _Report(format="A4")
        doc.add_cjk_font("cjk", font_path(), SC_INDEX, prepared=prepared)  # parsed once per process
        doc.set_margins(14, 14, 14)
        doc.set_auto_page_break(True, 16)
        return doc

    return render(make, lambda doc: _write(doc, card))


def _write(doc: FPDF, card: Card) -> None:
    doc.add_page()

    def line(text: str, size: float = 10, height: float = 6) -> None:
        doc.set_font("cjk", "", size)
        doc.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line("合作方评估报告", 18, 10)
    business = "默认" if card.business == "default" else card.business
    line(f"统计期：{card.start.isoformat()} 至 {card.end.isoformat()}（业务日期）    业务：{business}")
    line(f"生成时间：{report_time(utcnow())}", 9)
    line("权重：" + "，".join(f"{zh} {card.weights[c]}" for c, (zh, _) in CRITERIA.items()), 9)
    line("每个指标在同一角色的合作方之间按最差到最好折算为 0 至 100 分；标准分为其指标分的平均；总分为加权平均。", 8, 5)
    line("实测指标来自本平台的支付、审批、放款与售后数据，登记指标注明来源与日期。", 8, 5)
    for role, rows in card.groups.items():
        doc.ln(3)
        line(f"{ROLE_LABELS[role][0]}：排名", 13, 8)
        _chart(doc, rows)
        _table(doc, ["名次", "合作方", *SHORT.values(), "总分"],
               [[str(r.rank), r.name, *[("—" if r.criteria.get(c) is None else str(r.criteria[c])) for c in CRITERIA],
                 "—" if r.total is None else str(r.total)] for r in rows], [12, 34, 20, 20, 20, 20, 20, 20, 16])
        doc.ln(2)
        line("权重变动 ±10% 时的名次（−10% / 当前 / +10%）", 10)
        _table(doc, ["合作方", *SHORT.values()],
               [[r.name, *["/".join(str(k) for k in s.ranks[r.code]) for s in card.sensitivity[role]]]
                for r in rows], [46, 22, 22, 22, 22, 22, 22])
        doc.ln(2)
        line("指标明细（数值；样本量；统计期或来源）", 10)
        for r in rows:
            line(r.name, 10)
            for ind in INDICATORS:
                v = r.values.get(ind.key)
                if v is None:
                    continue
                n = "" if v.n is None else f"；样本 {v.n:,}"
                line(f"  {CRITERIA[ind.criterion][0]} · {ind.zh}：{fmt_value(ind.key, v.value)}{n}；{v.basis}", 8, 5)


def _chart(doc: FPDF, rows: list[Row]) -> None:
    """Horizontal bars of the totals (0–100)."""
    doc.set_font("cjk", "", 9)
    left, width, bar = doc.l_margin + 40, 120, 6
    for r in rows:
        y = doc.get_y()
        doc.set_xy(doc.l_margin, y)
        doc.cell(38, bar, r.name[:12], align="R")
        value = float(r.total) if r.total is not None else 0.0
        doc.set_fill_color(46, 110, 180)
        if value > 0:
            doc.rect(left, y + 1, width * value / 100, bar - 2, style="F")
        doc.set_xy(left + width * value / 100 + 2, y)
        doc.cell(20, bar, "—" if r.total is None else str(r.total))
        doc.set_y(y + bar + 1)
    doc.set_draw_color(120, 120, 120)
    doc.line(left, doc.get_y(), left + width, doc.get_y())
    doc.ln(2)


def _table(doc: FPDF, head: list[str], body: list[list[str]], widths: list[float]) -> None:
    doc.set_font("cjk", "", 8)
    for i, text in enumerate(head):
        doc.cell(widths[i], 6, text, border=1, align="C")
    doc.ln(6)
    for row in body:
        for i, text in enumerate(row):
            doc.cell(widths[i], 6, text[:16], border=1, align="C")
        doc.ln(6)



def pilot_csv(result: Result) -> bytes:
    """A pilot's comparison: each metric's candidate and incumbent estimate with its 95% interval and sample
    size, the difference with its interval, and whether it is significant (UTF-8 with a BOM). Times are
    Beijing time with their offset (+08:00)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    p = result.pilot
    w.writerow(["试点", p.name, "候选方", result.candidate_name, "对照方", result.incumbent_name,
                "比例", str(p.share), "统计期", f"{result.start.isoformat()} 至 {result.end.isoformat()}",
                "决定时间", csv_time(p.decided_at), "导出时间", csv_time(utcnow())])
    w.writerow(["指标", "候选方估计", "候选方下限", "候选方上限", "候选方样本", "对照方估计", "对照方下限",
                "对照方上限", "对照方样本", "差值", "差值下限", "差值上限", "显著"])

    def num(x: float | None) -> str:
        return "" if x is None else f"{x:.6g}"

    for c in result.comparisons:
        a, b, d = c.candidate, c.incumbent, c.difference
        verdict = "数据不足" if c.significant is None else ("是" if c.significant else "否")
        w.writerow([METRICS[c.metric][0], num(a.estimate), num(a.low), num(a.high), a.n, num(b.estimate),
                    num(b.low), num(b.high), b.n, num(d.estimate), num(d.low), num(d.high), verdict])
    return (BOM + out.getvalue()).encode("utf-8")
