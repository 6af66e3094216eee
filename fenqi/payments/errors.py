"""Payment domain errors (code, HTTP status, zh and en)."""

from __future__ import annotations

from fenqi.kit.errors import Conflict, DomainError, NotFound


class UnknownPurpose(DomainError):
    code = "unknown_payment_purpose"
    zh = "付款用途无效（{detail}）：须为 down_payment、installment 或 payoff"
    en = "Unknown payment purpose ({detail}): down_payment, installment or payoff"


class UnknownChannel(DomainError):
    code = "unknown_payment_channel"
    zh = "支付渠道无效（{detail}）：须为 alipay 或 wechatpay"
    en = "Unknown payment channel ({detail}): alipay or wechatpay"


class InvalidPaymentAmount(DomainError):
    code = "invalid_payment_amount"
    zh = "付款金额无效：{detail}"
    en = "Invalid payment amount: {detail}"


class OrderNotFound(NotFound):
    code = "payment_order_not_found"
    zh = "支付订单不存在：{detail}"
    en = "Payment order not found: {detail}"


class LoanRequired(DomainError):
    code = "loan_required"
    zh = "月供和提前结清的付款必须指定贷款"
    en = "Installment and payoff payments need a loan"


class OrderNotRefundable(Conflict):
    code = "order_not_refundable"
    zh = "该订单不可退款：{detail}"
    en = "This order cannot be refunded: {detail}"


class RefundExceedsPaid(Conflict):
    code = "refund_exceeds_paid"
    zh = "退款金额超过可退金额：{detail}"
    en = "The refund exceeds what can be refunded: {detail}"


class RefundRefReused(Conflict):
    code = "refund_ref_reused"
    zh = "退款编号已用于另一笔退款：{detail}"
    en = "This refund reference was used for another refund: {detail}"


class AgreementNotActive(Conflict):
    code = "agreement_not_active"
    zh = "代扣协议未生效：{detail}"
    en = "The auto-debit agreement is not active: {detail}"


class ReconciliationItemDecided(Conflict):
    code = "reconciliation_item_decided"
    zh = "该对账差异已处理：{detail}"
    en = "This reconciliation item was already decided: {detail}"


class ApplicationRequired(DomainError):
    code = "application_required"
    zh = "首付款必须指定申请"
    en = "A down payment needs an application"


class PayeeNotFound(NotFound):
    code = "payee_not_found"
    zh = "付款对象不存在：{detail}"
    en = "Nothing to pay for: {detail} does not exist"


class NothingToPay(Conflict):
    code = "nothing_to_pay"
    zh = "目前没有需要支付的金额：{detail}"
    en = "There is nothing to pay at the moment: {detail}"


class PaymentAmountMismatch(Conflict):
    code = "payment_amount_mismatch"
    zh = "付款金额须为 {expected} 元，而不是 {given} 元"
    en = "The amount to pay is {expected}, not {given}"


class ConfirmationRequired(Conflict):
    code = "confirmation_required"
    zh = "请确认后再批准：{detail}"
    en = "Confirm before approving: {detail}"


class SameApprover(DomainError):
    code = "maker_checker"
    status = 403
    zh = "提出对账处理的人不能自己批准，请由另一位财务人员批准"
    en = "Whoever ran the reconciliation cannot approve its actions; another finance user must"


class RetryLater(Exception):
    """The event names an order (or refund) we do not have (yet): its creating transaction may not have
    committed when the channel was already notifying. The caller rolls back and asks the channel to retry."""


class InvalidPlatformInstallments(DomainError):
    code = "invalid_platform_installments"
    zh = "花呗分期选择无效（{detail}）：仅支付宝首付可用，期数须为 3、6 或 12 期，手续费承担比例须为 0 或 100"
    en = ("Invalid Huabei installments ({detail}): Alipay down payments only, 3, 6 or 12 periods, "
          "seller percent 0 or 100")


class RefundRefusedForGood(Conflict):
    """The channel refused a refund for a reason retrying cannot change (the order is unknown or closed
    there, the amount is wrong): nothing was refunded or booked; a person has to handle it."""

    code = "refund_refused_for_good"
    zh = "支付渠道拒绝退款且无法重试（{detail}），需人工处理"
    en = "The channel refused the refund for good ({detail}): it needs handling by hand"
