"""Origination errors in zh-CN and English."""

from __future__ import annotations

from fenqi.kit.errors import DomainError


class InvalidIdNumber(DomainError):
    code = "id_number_invalid"
    zh = "身份证号码无效：{detail}"
    en = "Invalid resident ID number: {detail}"


class InvalidName(DomainError):
    code = "name_invalid"
    zh = "姓名无效：须为 2 至 30 个字符的真实姓名"
    en = "Invalid name: give the real name, 2 to 30 characters"


class InvalidPhone(DomainError):
    code = "phone_invalid"
    zh = "手机号码无效：{detail}（须为中国大陆手机号）"
    en = "Invalid mobile number: {detail} (a mainland China mobile number)"


class InvalidBankCard(DomainError):
    code = "bank_card_invalid"
    zh = "银行卡号无效（须为 15 至 19 位数字且校验位正确）"
    en = "Invalid bank card number (15 to 19 digits with a correct check digit)"


class ConsentMissing(DomainError):
    code = "consent_missing"
    zh = "缺少必需的授权：{detail}（须分别单独同意）"
    en = "A required consent is missing: {detail} (each must be given separately)"


class ConsentOutdated(DomainError):
    code = "consent_outdated"
    zh = "授权文本版本 {detail} 不是当前版本 {current}，请重新阅读并同意"
    en = "Consent text version {detail} is not the current version {current}; please read and agree again"


class ApplicationAlreadyOpen(DomainError):
    code = "application_open"
    status = 409
    zh = "该身份证号已有一笔进行中的分期申请，请先完成或取消"
    en = "There is already an open application for this ID number; finish or cancel it first"


class ApplicationState(DomainError):
    code = "application_state"
    status = 409
    zh = "申请当前状态为 {detail}，不能执行此操作"
    en = "The application is {detail}; this step is not possible now"


class PlanNotAllowed(DomainError):
    code = "plan_not_allowed"
    status = 409
    zh = "按审批结果，所选方案不可用（额度 {limit} 元，可选方案：{allowed}）"
    en = "The chosen plan is not available for this approval (limit {limit} yuan; plans allowed: {allowed})"


class SuggestionUnavailable(DomainError):
    code = "suggestion_unavailable"
    status = 409
    zh = "该建议方案已不可用（商品库存或审批规则已变化），请返回查看最新建议"
    en = "This suggested plan is no longer available (stock or the rules have changed); go back for the latest"


class CounterOfferNotAllowed(DomainError):
    code = "counter_offer_not_allowed"
    status = 422
    zh = "调整方案不在该信用等级可选的方案内：{detail}（可选：{allowed}）"
    en = "The counter-offer is not a plan this risk grade allows: {detail} (allowed: {allowed})"


class CounterOfferAboveLimit(DomainError):
    code = "counter_offer_above_limit"
    status = 422
    zh = "调整方案超出可用额度：分期金额 {detail} 元，额度 {limit} 元。请提高首付或选择其他方案"
    en = ("The counter-offer is above the credit limit: {detail} yuan financed, limit {limit} yuan. "
          "Raise the down payment or choose another plan")


class ContractMismatch(DomainError):
    code = "contract_mismatch"
    status = 409
    zh = "签署的合同与最新生成的合同不一致，请重新查看合同后签署"
    en = "The contract signed is not the latest one generated; review the contract again and sign"


class FontMissing(DomainError):
    code = "contract_font_missing"
    status = 503
    zh = "无法生成合同：缺少中文字体 {detail}（请安装 Debian 软件包 fonts-noto-cjk，见 scripts/system-deps）"
    en = ("Cannot render the contract: CJK font {detail} is missing "
          "(install Debian fonts-noto-cjk; see scripts/system-deps)")


class DownPaymentUnpaid(DomainError):
    code = "down_payment_unpaid"
    status = 409
    zh = "首付尚未到账，请顾客付款成功后再交付手机"
    en = "The down payment has not arrived yet; hand the phone over once the shopper has paid"


class ContractTextMissing(DomainError):
    code = "contract_text_missing"
    status = 404
    zh = "这份合同没有网页版，请打开 PDF 阅读"
    en = "This contract has no web version; open the PDF instead"
