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
# income is one matter whether a rule or the score raised it, so it is said once. Every reason code has its
# sentence here (a test holds it to that): no code, and no lenders' words (bureau, inquiries, risk grade).
_INCOME = ("每月还款额占您月收入的比例偏高", "The monthly payment is high compared with your income")
_AMOUNT = ("分期金额超过了目前能为您提供的额度", "The amount to finance is more than we can lend you now")
_SCORE = ("综合信用评分暂未达到要求", "Your overall credit score is not high enough yet")
_REVIEW = ("您的申请需要工作人员进一步审核", "Your application needs a closer look by our staff")
PLAIN: dict[str, tuple[str, str]] = {
    # the scorecard's factors: what lowered the score
    "S01": ("主要银行账户的余额和使用情况影响了评分",
            "The balance and use of your main bank account lowered your score"),
    "S02": ("所选的分期期数影响了评分", "The number of months you chose lowered your score"),
    "S03": ("以往借款的还款记录影响了评分", "Your record of repaying past loans lowered your score"),
    "S04": _AMOUNT,
    "S05": ("年龄影响了评分", "Your age lowered your score"),
    "S06": ("储蓄和存款情况影响了评分", "Your savings lowered your score"),
    "S07": ("名下资产（如房产、汽车）情况影响了评分", "What you own (such as a home or a car) lowered your score"),
    "S08": ("在现单位工作的时间影响了评分", "The time in your current job lowered your score"),
    "S09": ("居住情况影响了评分", "Your housing situation lowered your score"),
    "S10": ("您在其他机构还有分期或贷款，影响了评分",
            "Installments or loans you have with other lenders lowered your score"),
    "S11": _INCOME,
    # the rules and the decision's steps
    "age_out_of_range": ("您的年龄不在可以申请分期的范围内", "Your age is outside the range we can lend to"),
    "full_time_student": ("我们不向全日制在校学生提供分期", "We do not offer installments to full-time students"),
    "blacklisted": ("您的申请信息未通过我们的安全核验", "Your details did not pass our security checks"),
    "too_many_open_loans": ("您目前正在还款的分期或借款较多",
                            "You already have several loans or installment plans to repay"),
    "velocity_id": ("同一身份证号短时间内提交了多次申请，请稍后再试",
                    "Several applications were made with this ID number in a short time; please try again later"),
    "velocity_phone": ("同一手机号短时间内提交了多次申请，请稍后再试",
                       "Several applications were made with this phone number in a short time; please try again later"),
    "velocity_device": ("同一台手机短时间内被提交了多次申请，请稍后再试",
                        "Several applications were made for this phone in a short time; please try again later"),
    "installment_to_income": _INCOME, "installment_to_income_review": _INCOME,
    "no_income": ("申请时未填写收入", "No income was given"),
    "bureau_overdue": ("您的个人信用报告显示目前有逾期未还的款项",
                       "Your credit report shows a payment that is overdue now"),
    "bureau_recent_delinquency": ("您的个人信用报告显示近两年有严重的逾期还款",
                                  "Your credit report shows payments made very late in the last two years"),
    "bureau_inquiries": ("近期有较多机构查询过您的个人信用报告",
                         "Many lenders have looked at your credit report recently"),
    "bureau_unavailable": ("暂时查询不到您的个人信用报告，需要工作人员审核",
                           "We could not get your credit report just now, so our staff will look at your application"),
    "score_below_cutoff": _SCORE,
    "score_review_band": _REVIEW,
    "amount_above_limit": _AMOUNT,
    "plan_not_allowed": ("您选择的分期方案暂时不能为您提供，请换一个方案",
                         "The plan you chose is not available to you; please choose another one"),
}


def plain_reasons(reasons: list[dict[str, str]], lang: str) -> list[str]:
    """The stored reasons of a decision as the shopper reads them, in their language, each said once."""
    out: list[str] = []
    for reason in reasons:
        code = reason.get("code", "")
        if code in PLAIN:
            zh, en = PLAIN[code]
        elif reason.get("zh", code) != code and reason.get("en", code) != code:
            zh, en = reason["zh"], reason["en"]  # a rule added later, with its own words
        else:  # never a bare code
            zh, en = "申请暂未通过我们的综合评估", "Your application does not meet our lending criteria yet"
        text = zh if lang == "zh" else en
        if text not in out:
            out.append(text)
    return out
