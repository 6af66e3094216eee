"""After-sales errors: a code, an HTTP status and the message in Chinese and English."""

from __future__ import annotations

from fenqi.kit.errors import DomainError


class InvalidPolicy(DomainError):
    code = "invalid_aftersales_policy"
    status = 400
    zh = "售后政策有误：{detail}"
    en = "Invalid after-sales policy: {detail}"


class CaseNotFound(DomainError):
    code = "aftersales_case_not_found"
    status = 404
    zh = "未找到售后单：{detail}"
    en = "After-sales case not found: {detail}"


class CaseClosed(DomainError):
    code = "aftersales_case_closed"
    status = 409
    zh = "售后单已关闭（{detail}），不能再修改"
    en = "The after-sales case is closed ({detail}) and cannot be changed"


class CaseState(DomainError):
    code = "aftersales_case_state"
    status = 409
    zh = "售后单当前状态为“{detail}”，不能执行此操作"
    en = "The after-sales case is '{detail}': this step is not possible now"


class OutcomeNotAllowed(DomainError):
    code = "aftersales_outcome_not_allowed"
    status = 409
    zh = "政策不允许“{outcome_zh}”：{why_zh}"
    en = "The policy does not allow a {outcome_en}: {why_en}"


class NotSoldByMerchant(DomainError):
    code = "imei_not_sold_by_merchant"
    status = 404
    zh = "该IMEI不是本商户售出的分期手机：{detail}"
    en = "This IMEI is not a phone this merchant sold on installments: {detail}"


class OpenCaseExists(DomainError):
    code = "aftersales_case_open"
    status = 409
    zh = "这台手机已有进行中的售后单（{detail}）"
    en = "This phone already has an after-sales case in progress ({detail})"


class InspectionIncomplete(DomainError):
    code = "inspection_incomplete"
    status = 400
    zh = "验机清单未填完整：{detail}"
    en = "The inspection checklist is incomplete: {detail}"


class BadTransition(DomainError):
    code = "repair_bad_transition"
    status = 409
    zh = "维修单不能从“{current}”变为“{target}”"
    en = "A repair ticket cannot move from '{current}' to '{target}'"


class ComplaintState(DomainError):
    code = "complaint_state"
    status = 409
    zh = "投诉当前状态为“{detail}”，不能执行此操作"
    en = "The complaint is '{detail}': this step is not possible now"


class InvalidPhoto(DomainError):
    code = "invalid_photo"
    status = 400
    zh = "照片无效：{detail}（仅支持 JPEG/PNG，每张不超过 5 MB）"
    en = "Invalid photo: {detail} (JPEG or PNG, at most 5 MB each)"


class RepriceNotAllowed(DomainError):
    code = "aftersales_reprice_not_allowed"
    status = 409
    zh = "不能将差价重新分期：{why_zh}。可改为在收银台支付差价"
    en = "The difference cannot be financed as a new plan: {why_en}. It can be paid at the cashier instead"


class RefundNotManual(DomainError):
    code = "aftersales_refund_not_manual"
    status = 409
    zh = "这笔退款当前状态为“{detail}”，不在人工处理队列中，不能再处理；请刷新页面查看最新状态"
    en = "This refund is '{detail}', not waiting for manual handling, so it cannot be handled again; reload to see it"


class RefundNotFound(DomainError):
    code = "aftersales_refund_not_found"
    status = 404
    zh = "未找到售后退款：{detail}"
    en = "After-sales refund not found: {detail}"
