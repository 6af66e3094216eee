"""Payments' JSON shapes: orders, refunds, auto-debit agreements and batches, reconciliation."""

from __future__ import annotations

from pydantic import Field

from fenqi.kit.schemas import Bilingual, Day, Money, Out, Timestamp


class ChannelFailure(Out):
    """What WeChat Pay is told when a notification is refused (it then sends it again)."""

    code: str = Field(examples=["FAIL"])
    message: str


class OrderOut(Out):
    out_trade_no: str
    channel: str
    purpose: str
    amount: Money
    subject: str
    status: str
    loan_id: int | None
    application_id: int | None
    pay_url: str = Field(description="Where the payer pays (for scene=qr: the QR code's content)")
    trade_no: str | None
    expires_at: Timestamp
    paid_at: Timestamp | None
    refunded: Money
    hb_fq_num: int | None = Field(None, description="花呗分期 periods (3/6/12), null for a plain payment")
    hb_fq_seller_percent: int | None = Field(None, description="0: the shopper pays the fee; 100: the merchant")
    hb_fee: Money | None = Field(None, description="the platform's 花呗分期 fee our fee table expects")


class PollOut(Out):
    outcome: str
    order: OrderOut


class RefundOut(Out):
    refund_ref: str
    out_refund_no: str
    out_trade_no: str
    amount: Money
    reason: str
    status: str
    refund_no: str | None
    succeeded_at: Timestamp | None


class AgreementOut(Out):
    external_no: str
    channel: str
    loan_id: int
    status: str
    agreement_no: str | None
    sign_url: str


class AutoDebitBatch(Out):
    on: Day
    agreements: int
    debited: int
    paid: int
    pending: int
    failed: int
    errors: list[str]


class ReconciliationCounts(Out):
    matched: int
    long: int = Field(description="长款: on the channel's statement, not in our books")
    short: int = Field(description="短款: in our books, not on the channel's statement")
    amount_mismatch: int
    status_mismatch: int


class Discrepancy(Out):
    category: str
    kind: str
    out_trade_no: str
    out_refund_no: str | None
    channel_amount: Money | None
    our_amount: Money | None
    detail: str
    action: str
    action_text: Bilingual


class ReconciliationReport(Out):
    channel: str
    date: Day
    run_id: int | None
    lines: int
    counts: ReconciliationCounts
    channel_total: Money | None
    our_total: Money | None
    covered: list[Timestamp] | None = Field(description="The period the statement covers, [from, to)")
    discrepancies: list[Discrepancy]


class ReconciliationItemOut(Out):
    id: int
    run_id: int
    category: str
    kind: str
    out_trade_no: str
    out_refund_no: str | None
    channel_amount: Money | None
    our_amount: Money | None
    action: str
    action_status: str
    detail: str
    proposed_by: int | None
    decided_by: int | None


class ReconciliationItems(Out):
    run_id: int
    items: list[ReconciliationItemOut]
