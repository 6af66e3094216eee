"""The model-monitoring tables (PSI, calibration) as CSV: the page's rows, UTF-8 with a byte-order mark (so that
Excel opens Chinese text) and CRLF line ends, like the analytics exports."""

from __future__ import annotations

import csv
import io

from fenqi.risk.monitoring import Report
from fenqi.risk.reasons import FEATURE_REASONS

TABLES = ("psi", "calibration")
LEVELS = {"stable": ("稳定", "Stable"), "watch": ("需关注", "Watch"), "alert": ("已偏移", "Shifted")}


def names() -> dict[str, tuple[str, str]]:
    return {name: (zh, en) for name, (_, zh, en) in FEATURE_REASONS.items()} | {"score": ("评分", "Score")}


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def psi_rows(report: Report, lang: str) -> list[list[str]]:
    labels = names()
    head = [_t(lang, "指标", "Measure"), "PSI", _t(lang, "结论", "Verdict")]
    drifts = ([report.score] if report.score else []) + report.features
    return [head] + [[_t(lang, *labels[d.name]), f"{d.psi:.3f}", _t(lang, *LEVELS[d.level])] for d in drifts]


def calibration_rows(report: Report, lang: str, min_loans: int) -> list[list[str]]:
    head = [_t(lang, "月份", "Month"), _t(lang, "等级", "Grade"), _t(lang, "贷款", "Loans"), _t(lang, "坏账", "Bad"),
            _t(lang, "实际", "Observed"), _t(lang, "预测", "Predicted"), _t(lang, "预期区间", "Band"),
            _t(lang, "结论", "Verdict")]
    rows = [head]
    for c in report.calibration:
        verdict = (_t(lang, "超出区间", "Outside") if c.outside else _t(lang, "样本不足", "Too few")
                   if c.loans < min_loans else _t(lang, "正常", "Within"))
        rows.append([c.month, c.grade, str(c.loans), str(c.bad), _pct(c.observed), _pct(c.predicted),
                     f"{c.band[0] * 100:.1f}%–{c.band[1] * 100:.1f}%", verdict])
    return rows


def to_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
