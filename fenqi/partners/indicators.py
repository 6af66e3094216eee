"""The scorecard's six criteria and their indicators: which are measured from our data and which are recorded
(with their source and date), which way is better, and how each is shown."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ROLE_LABELS = {"funder": ("资金方", "Funder"), "payment_platform": ("支付平台", "Payment platform"),
               "installment_platform": ("分期平台", "Installment platform")}
STATUS_LABELS = {"candidate": ("候选", "Candidate"), "contracted": ("已签约", "Contracted"),
                 "ended": ("已终止", "Ended")}
CRITERIA: dict[str, tuple[str, str]] = {
    "stability": ("稳定与安全", "Stability and security"),
    "market": ("用户基础与市场份额", "User base and market share"),
    "cost": ("费率与成本", "Rates and fees"),
    "credit": ("授信要求", "Credit requirements"),
    "flexibility": ("还款灵活性", "Repayment flexibility"),
    "service": ("服务质量", "Service quality"),
}


@dataclass(frozen=True, slots=True)
class Indicator:
    key: str
    criterion: str
    zh: str
    en: str
    unit: str  # pct | seconds | count | yuan | per100 | per1000 | yes_no | number
    higher_is_better: bool
    roles: tuple[str, ...]  # which partner roles have it
    recorded: bool = False


PAY = ("payment_platform", "installment_platform")
FUND = ("funder",)
ALL = FUND + PAY

INDICATORS: tuple[Indicator, ...] = (
    Indicator("pay_success_rate", "stability", "支付成功率", "Payment success rate", "pct", True, PAY),
    Indicator("callback_p50_s", "stability", "回调延迟中位数", "Callback delay p50", "seconds", False, PAY),
    Indicator("callback_p99_s", "stability", "回调延迟 P99", "Callback delay p99", "seconds", False, PAY),
    Indicator("signature_failures", "stability", "验签失败次数", "Signature failures", "count", False, PAY),
    Indicator("downtime_measured_minutes", "stability", "实测停机时长（分钟）", "Measured downtime (minutes)", "number",
              False, PAY),
    Indicator("downtime_minutes", "stability", "停机时长（分钟，登记）", "Downtime (minutes, recorded)", "number",
              False, ALL, True),
    Indicator("market_share", "market", "市场份额（%）", "Market share (%)", "number", True, ALL, True),
    Indicator("active_users", "market", "活跃用户（万）", "Active users (10k)", "number", True, ALL, True),
    Indicator("fee_per_100", "cost", "每百元手续费（商户）", "Fee per ¥100 (merchant)", "yuan", False, PAY),
    # Funders: per ¥100 financed; installment platforms (花呗分期): per ¥100 paid in installments.
    Indicator("shopper_cost_per_100", "cost", "每百元融资顾客成本", "Shopper's cost per ¥100 financed", "yuan",
              False, (*FUND, "installment_platform")),
    Indicator("merchant_cost_per_100", "cost", "每百元融资商户成本", "Merchant's cost per ¥100 financed", "yuan",
              False, (*FUND, "installment_platform")),
    Indicator("approval_rate", "credit", "通过率（分配后签约）", "Approval rate (routed → signed)", "pct", True, FUND),
    Indicator("average_limit", "credit", "平均授信额度", "Average credit limit", "yuan", True, FUND),
    Indicator("decision_p50_s", "credit", "审批用时中位数", "Decision time p50", "seconds", False, FUND),
    Indicator("early_repayment", "flexibility", "允许提前还款", "Early repayment allowed", "yes_no", True, FUND),
    Indicator("partial_repayment", "flexibility", "允许部分提前还款", "Partial repayment allowed", "yes_no", True,
              FUND),
    Indicator("early_repayment_fee_pct", "flexibility", "提前还款手续费（%）", "Early repayment fee (%)", "number",
              False, FUND),
    Indicator("autodebit_success_rate", "flexibility", "代扣成功率", "Auto-debit success rate", "pct", True, PAY),
    Indicator("refund_p50_s", "service", "退款完成时间中位数", "Refund completion p50", "seconds", False, PAY),
    Indicator("complaints_per_100", "service", "每百笔贷款投诉数", "Complaints per 100 loans", "per100", False, FUND),
    Indicator("complaint_resolve_p50_s", "service", "投诉解决用时中位数", "Complaint resolution p50", "seconds",
              False, FUND),
    Indicator("payment_complaints_per_1000", "service", "支付与费用投诉（每千笔支付）",
              "Payment and fee complaints per 1,000 payments", "per1000", False, PAY),
    Indicator("recon_diff_per_1000", "service", "对账差异（每千笔）", "Reconciliation differences per 1,000 lines",
              "per1000", False, PAY),
)
BY_KEY = {i.key: i for i in INDICATORS}
RECORDED = tuple(i.key for i in INDICATORS if i.recorded)


def fmt_value(key: str, value: Decimal | None, lang: str = "zh") -> str:
    """An indicator's value as pages, CSV and PDF show it (thousands separators; no English on zh pages)."""
    if value is None:
        return "—"
    unit = BY_KEY[key].unit
    if unit == "yes_no":
        return ("是" if value else "否") if lang == "zh" else ("Yes" if value else "No")
    if unit == "pct":
        return f"{value:,}%"
    if unit == "yuan":
        return f"¥{value:,.2f}"
    if unit == "seconds":
        return f"{value:,} 秒" if lang == "zh" else f"{value:,} s"
    if unit == "count":
        return f"{int(value):,}"
    return f"{value:,}"
