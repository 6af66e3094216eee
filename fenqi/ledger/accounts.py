"""The chart of accounts (科目表): codes, kinds and which side is normal.

Account codes are short stable strings used in journal lines and in code (`Account.CASH_ALIPAY`).
Loan-level accounts carry the loan id on every line, so their balances exist per loan as well as in
total; the others are platform-level (a line may still carry a loan id for traceability).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fenqi.ledger.errors import UnknownChannel


class Kind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    INCOME = "income"
    EXPENSE = "expense"


class Account(StrEnum):
    # Assets — per loan.
    PRINCIPAL_RECEIVABLE = "principal_receivable"  # 应收本金 (all outstanding principal, due or not)
    INTEREST_ACCRUED = "interest_accrued"  # 应计利息 (earned day by day, not yet due)
    INTEREST_RECEIVABLE = "interest_receivable"  # 应收利息 (due and unpaid)
    FEE_ACCRUED = "fee_accrued"  # 应计手续费
    FEE_RECEIVABLE = "fee_receivable"  # 应收手续费
    PENALTY_RECEIVABLE = "penalty_receivable"  # 应收罚息 (penalty interest and late fees)
    # Assets — platform.
    CASH_ALIPAY = "cash_alipay"  # 支付宝清算户
    CASH_WECHATPAY = "cash_wechatpay"  # 微信支付清算户
    CASH_BANK = "cash_bank"  # 银行存款 (funder and merchant settlements, manual)
    SUBSIDY_RECEIVABLE = "subsidy_receivable"  # 应收商户贴息
    # Liabilities.
    MERCHANT_PAYABLE = "merchant_payable"  # 应付商户
    FUNDER_PAYABLE = "funder_payable"  # 应付资金方
    CUSTOMER_CREDIT = "customer_credit"  # 客户溢缴款 (overpayments, per loan)
    REFUNDS_PAYABLE = "refunds_payable"  # 应付退款
    # Income.
    INTEREST_INCOME = "interest_income"  # 利息收入
    FEE_INCOME = "fee_income"  # 手续费收入
    PENALTY_INCOME = "penalty_income"  # 罚息收入 (penalty interest and late fees)
    SUBSIDY_INCOME = "subsidy_income"  # 贴息收入
    MERCHANT_FEE_INCOME = "merchant_fee_income"  # 商户服务费收入
    RECOVERY_INCOME = "recovery_income"  # 核销后收回
    # Expenses.
    WRITE_OFF_EXPENSE = "write_off_expense"  # 核销损失
    HARDSHIP_WAIVER = "hardship_waiver"  # 纾困减免 (settlement discounts, penalties waived on a new schedule)
    PLATFORM_INSTALLMENT_FEE = "platform_installment_fee"  # 花呗分期手续费 (the merchant-paid part)


@dataclass(frozen=True, slots=True)
class AccountSpec:
    code: Account
    kind: Kind
    per_loan: bool
    name_zh: str
    name_en: str

    @property
    def debit_normal(self) -> bool:
        return self.kind in (Kind.ASSET, Kind.EXPENSE)


def _spec(code: Account, kind: Kind, per_loan: bool, zh: str, en: str) -> AccountSpec:
    return AccountSpec(code, kind, per_loan, zh, en)


A, K = Account, Kind
CHART: dict[Account, AccountSpec] = {
    s.code: s
    for s in (
        _spec(A.PRINCIPAL_RECEIVABLE, K.ASSET, True, "应收本金", "Principal receivable"),
        _spec(A.INTEREST_ACCRUED, K.ASSET, True, "应计利息", "Interest accrued, not yet due"),
        _spec(A.INTEREST_RECEIVABLE, K.ASSET, True, "应收利息", "Interest receivable"),
        _spec(A.FEE_ACCRUED, K.ASSET, True, "应计手续费", "Fee accrued, not yet due"),
        _spec(A.FEE_RECEIVABLE, K.ASSET, True, "应收手续费", "Fee receivable"),
        _spec(A.PENALTY_RECEIVABLE, K.ASSET, True, "应收罚息", "Penalty receivable"),
        _spec(A.CASH_ALIPAY, K.ASSET, False, "支付宝清算户", "Cash clearing: Alipay"),
        _spec(A.CASH_WECHATPAY, K.ASSET, False, "微信支付清算户", "Cash clearing: WeChat Pay"),
        _spec(A.CASH_BANK, K.ASSET, False, "银行存款", "Cash at bank"),
        _spec(A.SUBSIDY_RECEIVABLE, K.ASSET, False, "应收商户贴息", "Subsidy receivable from merchants"),
        _spec(A.MERCHANT_PAYABLE, K.LIABILITY, False, "应付商户", "Payable to merchants"),
        _spec(A.FUNDER_PAYABLE, K.LIABILITY, False, "应付资金方", "Payable to funders"),
        _spec(A.CUSTOMER_CREDIT, K.LIABILITY, True, "客户溢缴款", "Shopper credit balances"),
        _spec(A.REFUNDS_PAYABLE, K.LIABILITY, False, "应付退款", "Refunds payable"),
        _spec(A.INTEREST_INCOME, K.INCOME, False, "利息收入", "Interest income"),
        _spec(A.FEE_INCOME, K.INCOME, False, "手续费收入", "Fee income"),
        _spec(A.PENALTY_INCOME, K.INCOME, False, "罚息收入", "Penalty income"),
        _spec(A.SUBSIDY_INCOME, K.INCOME, False, "贴息收入", "Subsidy income"),
        _spec(A.MERCHANT_FEE_INCOME, K.INCOME, False, "商户服务费收入", "Merchant fee income"),
        _spec(A.RECOVERY_INCOME, K.INCOME, False, "核销后收回", "Recoveries after write-off"),
        _spec(A.WRITE_OFF_EXPENSE, K.EXPENSE, False, "核销损失", "Write-off expense"),
        _spec(A.HARDSHIP_WAIVER, K.EXPENSE, False, "纾困减免", "Hardship waivers"),
        _spec(A.PLATFORM_INSTALLMENT_FEE, K.EXPENSE, False, "花呗分期手续费", "Platform installment fees (Huabei)"),
    )
}

# The loan-level accounts whose per-loan balances servicing stores on the loan (and `ledger check` compares).
LOAN_ACCOUNTS: tuple[Account, ...] = tuple(a for a, s in CHART.items() if s.per_loan)

_CASH_BY_CHANNEL = {"alipay": A.CASH_ALIPAY, "wechatpay": A.CASH_WECHATPAY, "bank": A.CASH_BANK}
CHANNELS: tuple[str, ...] = tuple(_CASH_BY_CHANNEL)


def cash_account(channel: str) -> Account:
    """The cash clearing account of a payment channel: "alipay", "wechatpay" or "bank"."""
    try:
        return _CASH_BY_CHANNEL[channel]
    except KeyError:
        raise UnknownChannel(channel) from None


class Reason(StrEnum):
    """Business reason codes of journal entries. Other domains may use their own dotted codes too."""

    LOAN_BOOKED = "loan_booked"  # Dr principal_receivable / Cr merchant_payable
    DISBURSEMENT = "disbursement"  # funding: merchant_payable → cash / funder_payable
    DOWN_PAYMENT = "down_payment"  # payments: cash → merchant_payable
    SALE = "sale"  # payments: a whole price paid with 花呗分期 (no loan of ours): cash → merchant_payable
    REPAYMENT = "repayment"  # cash → receivables (+ customer_credit)
    PREPAYMENT = "prepayment"  # early repayment, partial or payoff
    INTEREST_ACCRUAL = "interest_accrual"  # COB: Dr interest_accrued / Cr interest_income
    FEE_ACCRUAL = "fee_accrual"  # COB: Dr fee_accrued / Cr fee_income
    INSTALLMENT_DUE = "installment_due"  # COB: accrued → receivable on the due date
    PENALTY = "penalty"  # COB: Dr penalty_receivable / Cr penalty_income
    LATE_FEE = "late_fee"  # COB: the same accounts, once per overdue installment
    CREDIT_APPLIED = "credit_applied"  # customer_credit → receivables
    WRITE_OFF = "write_off"  # receivables → write_off_expense
    RECOVERY = "recovery"  # cash → recovery_income after write-off
    REFUND = "refund"  # customer_credit → refunds_payable (or payments' own refunds)
    CANCELLATION = "cancellation"  # a returned phone: the loan's receivables reversed
    SUBSIDY = "subsidy"
    SETTLEMENT = "settlement"
    HARDSHIP = "hardship"  # a new schedule: accrued/receivable interest and fee rescheduled, penalty waived
    HARDSHIP_SETTLEMENT = "hardship_settlement"  # a discounted payoff: cash + waiver → every receivable
    PLATFORM_INSTALLMENT_FEE = "platform_installment_fee"  # Dr platform_installment_fee / Cr cash (花呗分期)
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"
