"""What the codes stored in the records are called on pages, in zh-CN and English: one map per kind of
code. Templates call `label(kind, code, lang)`; a code with no name yet is shown as it is.

Ledger accounts take their names from the ledger's chart of accounts; everything else is named here.
"""

from __future__ import annotations

from fenqi.catalog.service import brand_name, phone_title
from fenqi.ledger import CHART

Names = dict[str, tuple[str, str]]

REASONS: Names = {  # journal entries' business reasons
    "loan_booked": ("放款入账", "Loan booked"), "disbursement": ("放款", "Disbursement"),
    "down_payment": ("首付", "Down payment"), "repayment": ("还款", "Repayment"),
    "sale": ("花呗分期整单销售", "Whole-price sale (Huabei)"),
    "prepayment": ("提前还款", "Prepayment"), "interest_accrual": ("计提利息", "Interest accrual"),
    "fee_accrual": ("计提手续费", "Fee accrual"), "installment_due": ("账单到期", "Installment due"),
    "penalty": ("罚息", "Penalty interest"), "late_fee": ("逾期费", "Late fee"),
    "credit_applied": ("溢缴款抵扣", "Credit applied"), "write_off": ("核销", "Write-off"),
    "recovery": ("核销后收回", "Recovery"), "refund": ("退款", "Refund"), "cancellation": ("退货撤销", "Cancellation"),
    "subsidy": ("商户贴息", "Merchant subsidy"), "settlement": ("结算", "Settlement"),
    "hardship": ("困难协商", "Hardship"), "hardship_settlement": ("协商结清", "Hardship settlement"),
    "platform_installment_fee": ("花呗分期手续费", "Huabei installment fee"), "reversal": ("冲正", "Reversal"),
    "adjustment": ("调整", "Adjustment"), "aftersales.reprice": ("换货重新定价", "Exchange re-priced"),
}
METHODS: Names = {
    "equal-installment": ("等额本息", "Equal installments"), "equal-principal": ("等额本金", "Equal principal"),
    "flat-fee": ("每期手续费", "Flat fee per period"), "interest-free": ("免息", "Interest-free"),
}
PAYERS: Names = {"shopper": ("消费者", "Shopper"), "merchant": ("商户", "Merchant")}
FUNDER_KINDS: Names = {
    "bank": ("银行", "Bank"), "consumer_finance": ("消费金融公司", "Consumer finance company"),
    "trust": ("信托", "Trust"), "microloan": ("小额贷款公司", "Microlender"), "own": ("自有资金", "Own funds"),
}
STRATEGIES: Names = {
    "lowest_cost": ("成本最低", "Lowest cost"), "quota_balancing": ("额度均衡", "Quota balancing"),
    "priority": ("优先级", "Priority"),
}
CHANNELS: Names = {
    "alipay": ("支付宝", "Alipay"), "wechatpay": ("微信支付", "WeChat Pay"), "sms": ("短信", "SMS"),
    "bank": ("银行转账", "Bank transfer"),
}
PURPOSES: Names = {
    "down_payment": ("首付", "Down payment"), "installment": ("分期还款", "Installment"),
    "payoff": ("提前结清", "Payoff"), "prepayment": ("提前还款", "Prepayment"),
    "sale": ("整单付款（花呗分期）", "Whole price (Huabei)"),
}
TEMPLATES: Names = {  # text messages
    "login_code": ("登录验证码", "Sign-in code"), "loan_signed": ("签约成功通知", "Loan signed"),
    "pay_link": ("还款链接", "Payment link"), "pre_due_3": ("到期前 3 天提醒", "3 days before due"),
    "pre_due_1": ("到期前 1 天提醒", "1 day before due"), "due_today": ("到期日提醒", "Due today"),
    "overdue_1": ("逾期 1 天提醒", "1 day overdue"), "overdue_3": ("逾期 3 天提醒", "3 days overdue"),
    "overdue_7": ("逾期 7 天提醒", "7 days overdue"), "overdue_weekly": ("逾期每周提醒", "Weekly overdue notice"),
    "payoff": ("结清通知", "Paid off"), "lock_warning": ("锁机提醒", "Lock warning"),
    "upgrade_offer": ("换机优惠", "Upgrade offer"), "partner_expiry_reminder": ("合作方到期提醒", "Partner expiry"),
}
SEND_STATUSES: Names = {
    "pending": ("待发送", "Pending"), "queued": ("排队中", "Queued"), "sent": ("已发送", "Sent"),
    "delivered": ("已送达", "Delivered"), "failed": ("发送失败", "Failed"), "suppressed": ("已拦截", "Suppressed"),
}
OUTCOMES: Names = {  # risk decisions
    "approve": ("批准", "Approve"), "decline": ("拒绝", "Decline"), "refer": ("转人工", "Refer to review"),
}
SEVERITIES: Names = {"soft": ("软规则·转人工", "soft: review"), "hard": ("硬规则·拒绝", "hard: decline")}
# The application's questions and their answers: one set of words for the shopper's form (/shop/apply)
# and the till (/merchant/till), in the terms Chinese shoppers know. The stored codes are the scorecard's
# (fenqi/risk/schemas.py). Left out on purpose, as questions of the German Credit form the scorecard was
# trained on rather than of a Chinese one: a life-insurance policy as an asset (the API still takes
# `insurance`), and the kind of work (skilled/unskilled: the dataset's "job", which the model does not use).
QUESTIONS: Names = {
    "name": ("姓名", "Full name"), "id_number": ("身份证号码", "Resident ID number"),
    "phone": ("手机号码", "Mobile number"), "bank_card": ("还款银行卡号", "Bank card for repayments"),
    "store": ("取货门店", "Pick-up store"),
    "employment": ("工作情况", "Employment"), "employment_years": ("现单位工作年限（年）", "Years in this job"),
    "monthly_income": ("月收入（元）", "Monthly income (yuan)"),
    "is_full_time_student": ("我是全日制在校学生", "I am a full-time student"),
    "housing": ("住房情况", "Housing"), "residence_years": ("现住址居住年限（年）", "Years at this address"),
    "bank_account": ("常用银行卡", "Main bank card"), "savings": ("存款", "Savings"),
    "assets": ("名下房产或汽车", "Home or car in your name"),
    "existing_loans": ("在其他机构的分期 / 贷款笔数", "Installment loans with other lenders"),
}
EMPLOYMENT: Names = {
    "employed": ("企业职工", "Employed"), "self_employed": ("个体经营", "Self-employed"),
    "civil_servant": ("公务员 / 事业单位", "Civil servant"), "retired": ("退休", "Retired"),
    "unemployed": ("待业", "Not working"), "student": ("全日制学生", "Full-time student"),
}
ANSWERS: dict[str, Names] = {
    "employment": EMPLOYMENT,
    "housing": {"rent": ("租房", "Renting"), "own": ("自有住房", "Own home"),
                "mortgage": ("按揭住房", "Mortgaged home"), "family": ("与家人同住", "With family"),
                "dormitory": ("单位宿舍", "Dormitory")},
    "bank_account": {"salary": ("工资卡（单位代发工资）", "Salary card (pay paid in)"),
                     "low_balance": ("普通储蓄卡", "Ordinary debit card"),
                     "overdrawn": ("信用卡经常透支", "Credit card often overdrawn"),
                     "none": ("无", "None")},
    "savings": {"none": ("无", "None"), "lt_5k": ("5 千元以下", "Under ¥5k"), "5k_20k": ("5 千 – 2 万元", "¥5k–20k"),
                "20k_50k": ("2 万 – 5 万元", "¥20k–50k"), "gt_50k": ("5 万元以上", "Over ¥50k")},
    "assets": {"none": ("无", "None"), "car": ("汽车", "Car"), "real_estate": ("房产", "Home (real estate)")},
}
BUREAUS: Names = {"emulated": ("模拟征信", "Emulated bureau"), "pboc": ("人行征信", "PBOC")}
PARAMS: Names = {  # the figures a risk rule reports
    "ratio": ("比例", "ratio"), "max_ratio": ("上限", "limit"), "max": ("上限", "limit"), "count": ("次数", "count"),
    "max_dpd": ("最长逾期天数上限", "max days past due"), "dpd": ("逾期天数", "days past due"),
    "age": ("年龄", "age"), "min": ("下限", "minimum"), "open_loans": ("未结清贷款", "open loans"),
    "inquiries": ("查询次数", "inquiries"),
}
SUBJECTS: Names = {  # what an audit entry touched
    "application": ("申请", "Application"), "loan": ("借款", "Loan"), "contract": ("合同", "Contract"),
    "risk_decision": ("风控决策", "Risk decision"), "user": ("用户", "User"), "api_key": ("接口密钥", "API key"),
    "case": ("案件", "Case"), "complaint": ("投诉", "Complaint"), "device": ("设备", "Device"),
    "merchant": ("商户", "Merchant"), "product": ("产品", "Product"), "sms_code": ("短信验证码", "SMS code"),
    "password": ("密码", "Password"), "phone": ("手机号", "Phone"), "pilot": ("合作方试点", "Partner pilot"),
    "experiment": ("方案实验", "Experiment"),
}
ACTIONS: Names = {
    "login": ("登录", "Signed in"), "login.failed": ("登录失败", "Sign-in failed"), "logout": ("退出", "Signed out"),
    "password.set": ("设置密码", "Password set"), "user.created": ("新建用户", "User created"),
    "api_key.created": ("新建接口密钥", "API key created"), "api_key.revoked": ("吊销接口密钥", "API key revoked"),
    "application.signed": ("申请签约", "Application signed"),
    "application.cancelled": ("申请取消", "Application cancelled"),
    "id_number.revealed": ("查看完整身份证号", "ID number revealed"),
    "phone.revealed": ("查看完整手机号", "Phone revealed"), "product.create": ("新建产品", "Product created"),
    "product.deactivate": ("停用产品", "Product deactivated"), "payments.refund": ("退款", "Refund"),
    "risk.review.approved": ("人工审核批准", "Review approved"),
    "risk.review.declined": ("人工审核拒绝", "Review declined"),
    "aftersales.case.opened": ("售后申请", "After-sales opened"),
    "aftersales.case.decided": ("售后处理", "After-sales decided"),
    "aftersales.reprice.signed": ("换货新合同签署", "Exchange re-price signed"),
    "aftersales.policy.set": ("售后政策设置", "After-sales policy set"),
    "complaint.assigned": ("投诉分派", "Complaint assigned"), "complaint.resolved": ("投诉办结", "Complaint resolved"),
    "device.enrolled": ("设备登记", "Device enrolled"), "device.policy": ("锁机策略", "Lock policy"),
    "device.released": ("设备解锁", "Device released"),
    "device.release_cancelled": ("取消解锁", "Release cancelled"),
    "partners.pilot.create": ("新建合作方试点", "Pilot defined"),
    "partners.pilot.adopt": ("试点决定：采用", "Pilot decided: adopt"),
    "partners.pilot.extend": ("试点决定：延长", "Pilot decided: extend"),
    "partners.pilot.stop": ("试点决定：停止", "Pilot decided: stop"),
    "experiment.create": ("新建方案实验", "Experiment created"),
    "experiment.start": ("开始方案实验", "Experiment started"),
    "experiment.stop": ("停止方案实验", "Experiment stopped"),
}
REPRICE: Names = {  # a pricier exchange's difference financed as a new plan
    "offered": ("待顾客签署新合同", "Waiting for the shopper to sign"), "signed": ("新合同已签署", "Signed"),
    "abandoned": ("未签署，已放弃", "Not signed, dropped"),
}
HARDSHIP: Names = {  # the kinds of hardship arrangement (servicing.hardship)
    "holiday": ("延期还款", "Payment holiday"),
    "reage": ("再账龄", "Re-ageing"),
    "restructure": ("重组", "Restructure"),
    "settlement": ("和解结清", "Settlement"),
}
KINDS: dict[str, Names] = {
    "reason": REASONS, "method": METHODS, "payer": PAYERS, "funder_kind": FUNDER_KINDS, "strategy": STRATEGIES,
    "channel": CHANNELS, "purpose": PURPOSES, "template": TEMPLATES, "send_status": SEND_STATUSES,
    "outcome": OUTCOMES, "severity": SEVERITIES, "employment": EMPLOYMENT, "bureau": BUREAUS, "subject": SUBJECTS,
    "action": ACTIONS, "param": PARAMS, "question": QUESTIONS, "reprice": REPRICE, "hardship": HARDSHIP,
}


def label(kind: str, code: object, lang: str = "zh") -> str:
    """The name of `code` of this kind on a page; the code itself when it has none."""
    text = "" if code is None else str(code)
    if kind == "account":
        spec = CHART.get(text)  # type: ignore[call-overload]
        if spec is not None:
            return spec.name_zh if lang == "zh" else spec.name_en
        return text
    names = KINDS[kind].get(text) or KINDS[kind].get(text.lower())
    if names is None:
        return text
    return names[0] if lang == "zh" else names[1]


def subject_label(subject: str, lang: str = "zh") -> str:
    """An audit subject ("loan:42 contract:ab12") with each record named: "借款 42 合同 ab12"."""
    parts = []
    for part in subject.split():
        noun, sep, ident = part.partition(":")
        parts.append(f"{label('subject', noun, lang)} {ident}" if sep else label("subject", part, lang))
    return " ".join(parts)


# How a sign-in was made, as the audit trail records it.
SIGN_IN_METHODS: Names = {"password": ("密码登录", "password"), "sms_code": ("短信验证码登录", "SMS code")}


def audit_detail(detail: str, lang: str = "zh") -> str:
    """An audit entry's detail: the records it names ("loan:1 contract:ab12") with their names, a sign-in's
    method by its name; free text as written."""
    if detail in SIGN_IN_METHODS:
        zh, en = SIGN_IN_METHODS[detail]
        return zh if lang == "zh" else en
    tokens = detail.split()
    if tokens and all(t.partition(":")[0] in SUBJECTS and ":" in t for t in tokens):
        return subject_label(detail, lang)
    return detail


def phone_name(brand: str, model: str, lang: str = "zh") -> str:
    """A phone's name, the brand once and in the maker's Chinese on Chinese pages (catalog's phone_title)."""
    return phone_title(brand, model, lang)


__all__ = ["audit_detail", "brand_name", "label", "phone_name", "subject_label"]
