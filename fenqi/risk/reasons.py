"""Reason codes in zh-CN and English: one per scorecard feature (the points it cost) and one per rule.

Codes are stable identifiers shown to shoppers and risk officers; the texts may be reworded, the
codes may not.
"""

from __future__ import annotations

from fenqi.risk.schemas import Reason

# Scorecard features: the factors that cost the most points against their best value, named neutrally
# (the same factor can cost points for different values).
FEATURE_REASONS: dict[str, tuple[str, str, str]] = {
    "bank_account": ("S01", "主要银行账户状况", "Status of the main bank account"),
    "term": ("S02", "分期期数", "Length of the installment term"),
    "credit_history": ("S03", "征信还款记录", "Repayment history at the credit bureau"),
    "financed_amount": ("S04", "分期金额", "Amount financed"),
    "age": ("S05", "年龄", "Age"),
    "savings": ("S06", "储蓄与存款", "Savings and deposits"),
    "assets": ("S07", "名下资产", "Assets owned"),
    "employment_band": ("S08", "当前工作年限", "Time in the current employment"),
    "housing": ("S09", "居住情况", "Housing situation"),
    "other_installments": ("S10", "在其他机构的分期或贷款", "Installment loans with other lenders"),
    "installment_burden": ("S11", "月供占收入比例", "Installment as a share of income"),
}

# Rules and decision steps.
RULE_REASONS: dict[str, tuple[str, str]] = {
    "age_out_of_range": ("年龄不在允许范围内", "Age is outside the allowed range"),
    "full_time_student": ("不向全日制在校学生提供分期", "No installment credit for full-time students"),
    "blacklisted": ("申请人、手机号或设备在风险名单中", "The applicant, phone number or device is on the risk list"),
    "too_many_open_loans": ("在途借款笔数过多", "Too many loans currently open"),
    "velocity_id": ("同一证件短时间内申请次数过多", "Too many applications with this ID number in the last hour"),
    "velocity_phone": ("同一手机号短时间内申请次数过多", "Too many applications with this phone number lately"),
    "velocity_device": ("同一设备短时间内申请次数过多", "Too many applications for this device in the last hour"),
    "installment_to_income": ("月供占收入比例过高", "The installment is too high for the income"),
    "installment_to_income_review": ("月供占收入比例偏高，需人工核实收入",
                                     "The installment is high for the income: income to be checked"),
    "no_income": ("未提供收入", "No income declared"),
    "bureau_overdue": ("征信显示当前有逾期", "The credit bureau shows an account currently past due"),
    "bureau_recent_delinquency": ("征信显示近两年有严重逾期", "The credit bureau shows serious delays in two years"),
    "bureau_inquiries": ("近期征信查询次数较多", "Many recent credit inquiries"),
    "bureau_unavailable": ("暂时无法获取征信报告，转人工审核", "No credit report available; referred to review"),
    "score_below_cutoff": ("综合信用评分未达到要求", "The credit score is below the required level"),
    "score_review_band": ("综合信用评分需人工复核", "The credit score needs a manual review"),
    "amount_above_limit": ("申请金额超过可用额度", "The amount requested is above the credit limit"),
    "plan_not_allowed": ("所选分期方案不适用于当前信用等级", "The chosen plan is not available for this risk grade"),
}


def feature_reason(feature: str) -> Reason:
    code, zh, en = FEATURE_REASONS[feature]
    return Reason(code=code, zh=zh, en=en)


def rule_reason(code: str) -> tuple[str, str]:
    return RULE_REASONS.get(code, (code, code))


# How a shopper reads the reasons: plain sentences, one per matter — an installment too high for the
# income is one matter whether a rule or the score raised it, so it is said once.
_INCOME = ("每月还款额占您月收入的比例偏高", "The monthly payment is high compared with your income")
_AMOUNT = ("分期金额超过了目前能为您提供的额度", "The amount to finance is more than we can lend you now")
PLAIN: dict[str, tuple[str, str]] = {
    "installment_to_income": _INCOME, "installment_to_income_review": _INCOME, "S11": _INCOME,
    "amount_above_limit": _AMOUNT, "S04": _AMOUNT,
    "S02": ("分期期数对评分不利", "The number of months counted against your score"),
    "score_below_cutoff": ("综合信用评分暂未达到要求", "Your overall credit score is not high enough yet"),
    "no_income": ("申请时未填写收入", "No income was given"),
}
_FEATURE_CODES = {code: (zh, en) for code, zh, en in FEATURE_REASONS.values()}


def plain_reasons(reasons: list[dict[str, str]], lang: str) -> list[str]:
    """The stored reasons of a decision as the shopper reads them, in their language, each said once."""
    out: list[str] = []
    for reason in reasons:
        code = reason.get("code", "")
        if code in PLAIN:
            zh, en = PLAIN[code]
        elif code in _FEATURE_CODES:
            zh, en = _FEATURE_CODES[code]
            zh, en = f"{zh}对评分不利", f"{en} counted against your score"
        else:
            zh, en = reason.get("zh", code), reason.get("en", code)
        text = zh if lang == "zh" else en
        if text not in out:
            out.append(text)
    return out
