"""The re-pricing addendum (换货重新定价补充协议): when a pricier phone's difference is financed on the same
loan (fenqi.aftersales.reprice), the shopper signs a fresh contract with the new schedule and its APR.

It is drawn up by the same machinery as the original e-contract (fenqi.origination.contract_pdf: CJK
fonts, the APR first and in the largest type, the same clauses on fees, penalty, early repayment and
complaints), stored as a contract of the application (template `exchange-addendum-…`, never taken for the
application's own contract) and signed by its hash. An unsigned addendum binds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_merchant, get_store
from fenqi.funding.service import get_funder
from fenqi.kit.cjk_pdf import render
from fenqi.kit.clock import business_date
from fenqi.kit.crypto import decrypt, mask_id_number
from fenqi.kit.money import fmt_percent, fmt_yuan, from_fen
from fenqi.origination.contract_pdf import _Doc, complaint_channel
from fenqi.origination.errors import ContractMismatch
from fenqi.origination.models import Application, Contract
from fenqi.origination.service import masked_name
from fenqi.pricing.schedule import METHOD_NAMES_ZH, Method
from fenqi.pricing.service import get_product

ADDENDUM_VERSION = "exchange-addendum-2026.1"


@dataclass(frozen=True, slots=True)
class AddendumRow:
    period: int
    due_date: date
    principal_fen: int
    interest_fen: int
    fee_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.fee_fen


@dataclass(frozen=True, slots=True)
class Addendum:
    """What the addendum says: the exchange, the new principal, the schedule and its APR."""

    contract_no: str
    original_no: str
    signed_on: date
    shopper_masked_name: str
    shopper_masked_id: str
    merchant_name: str
    store_name: str
    funder_name: str
    old_goods: str
    goods: str
    imei: str
    outstanding_fen: int
    difference_fen: int
    method: Method
    annual_rate: Decimal
    fee_rate: Decimal
    apr: Decimal
    rows: tuple[AddendumRow, ...]
    penalty_daily_rate: Decimal
    grace_days: int
    late_fee_fen: int
    prepayment_fee_rate: Decimal

    @property
    def principal_fen(self) -> int:
        return self.outstanding_fen + self.difference_fen


def render_addendum(a: Addendum) -> bytes:
    """The addendum PDF; the same terms give the same bytes."""
    return render(_Doc, lambda doc: _write(doc, a))  # type: ignore[arg-type]


def _y(fen: int) -> str:
    return fmt_yuan(from_fen(fen))


def _write(doc: _Doc, a: Addendum) -> None:
    doc.set_title(f"分期付款合同补充协议 {a.contract_no}")
    doc.set_creation_date(datetime.combine(a.signed_on, time(0), tzinfo=UTC))
    doc.add_page()
    doc.para("分期付款合同补充协议（换货重新定价）", size=16, bold=True, height=10)
    doc.para(f"协议编号：{a.contract_no}    原合同编号：{a.original_no}    模板版本：{ADDENDUM_VERSION}    "
             f"日期：{a.signed_on.isoformat()}", 9)
    doc.ln(2)
    doc.para(f"年化利率（APR）：{fmt_percent(a.apr)}", size=16, bold=True, height=9)
    doc.para("（按新的分期本金和剩余期限重新计算的年化利率，含利息与各期手续费）", 9)
    doc.ln(2)
    doc.para(f"借款人（消费者）：{a.shopper_masked_name}    身份证号：{a.shopper_masked_id}")
    doc.para(f"销售商户：{a.merchant_name}（{a.store_name}）    出借人（资金方）：{a.funder_name}")
    doc.para(f"换货：{a.old_goods} 换为 {a.goods}    新机IMEI：{a.imei}")
    doc.ln(2)
    doc.para("一、重新定价", bold=True)
    total_interest = sum(r.interest_fen for r in a.rows)
    total_fee = sum(r.fee_fen for r in a.rows)
    doc.para(
        f"原合同剩余本金 {_y(a.outstanding_fen)} 元，加换货差价 {_y(a.difference_fen)} 元（由资金方支付给商户），"
        f"新的分期本金 {_y(a.principal_fen)} 元，按原合同的方式（{METHOD_NAMES_ZH[a.method]}）和利率，"
        f"自本期起分 {len(a.rows)} 期偿还。利息合计 {_y(total_interest)} 元，手续费合计 {_y(total_fee)} 元，"
        f"应还总额 {_y(sum(r.total_fen for r in a.rows))} 元。本协议签署后替代原合同的还款计划，原合同其他条款不变。"
    )
    doc.ln(1)
    _table(doc, a.rows)
    doc.ln(2)
    doc.para("二、费用", bold=True)
    doc.para(f"除上表所列利息及手续费外，不收取其他费用。年利率（名义）{fmt_percent(a.annual_rate)}，"
             f"每期手续费率 {fmt_percent(a.fee_rate)}；上述费用均已计入年化利率 {fmt_percent(a.apr)}。")
    doc.para("三、逾期与罚息", bold=True)
    doc.para(f"每期应还款日后 {a.grace_days} 日为宽限期；逾期超过宽限期的，按逾期本金每日 "
             f"{fmt_percent(a.penalty_daily_rate)} 计收罚息"
             + (f"，并收取逾期费 {_y(a.late_fee_fen)} 元" if a.late_fee_fen else "") + "。")
    doc.para("四、提前还款", bold=True)
    doc.para("借款人可随时提前结清全部剩余本金，利息计至结清之日" +
             (f"，提前还款手续费为剩余本金的 {fmt_percent(a.prepayment_fee_rate)}。" if a.prepayment_fee_rate
              else "，不收取提前还款手续费。"))
    doc.para("五、不签署的后果", bold=True)
    doc.para("借款人未签署本协议的，原合同及其还款计划不变，可改为在收银台支付差价完成换货。")
    doc.para("六、投诉渠道", bold=True)
    doc.para(complaint_channel())
    doc.ln(3)
    doc.para(f"借款人：{a.shopper_masked_name}（电子签名）    出借人：{a.funder_name}    商户：{a.merchant_name}")


def _table(doc: _Doc, rows: Sequence[AddendumRow]) -> None:
    widths = (14, 30, 30, 30, 30, 30)
    doc.set_font("cjk", "B", 9)
    for width, head in zip(widths, ("期数", "还款日", "本金", "利息", "手续费", "应还金额"), strict=True):
        doc.cell(width, 6, head, border=1, align="C")
    doc.ln()
    doc.set_font("cjk", "", 9)
    for r in rows:
        cells = (str(r.period), r.due_date.isoformat(), _y(r.principal_fen), _y(r.interest_fen), _y(r.fee_fen),
                 _y(r.total_fen))
        for width, value in zip(widths, cells, strict=True):
            doc.cell(width, 6, value, border=1, align="C" if "-" in value else "R")
        doc.ln()


def draw_up(session: Session, application_id: int, *, case_id: int, old_goods: str, goods: str, imei: str,
            outstanding_fen: int, difference_fen: int, method: str, annual_rate: Decimal, fee_rate: Decimal,
            apr: Decimal, rows: Sequence[AddendumRow]) -> Contract:
    """Render and store the addendum of a re-priced exchange (the latest one for the case is the one to sign)."""
    app = session.get(Application, application_id)
    if app is None or app.loan_id is None:
        raise ContractMismatch()
    today = business_date(session)
    original = session.scalar(select(Contract).where(Contract.application_id == app.id, Contract.signed.is_(True))
                              .order_by(Contract.id).limit(1))
    product = get_product(session, app.product_code)
    funder_code = original.funder_code if original is not None else (app.funder_code or "")
    addendum = Addendum(
        contract_no=f"FQX{today:%Y%m%d}{case_id:08d}", original_no=f"FQ{app.business_date:%Y%m%d}{app.id:08d}",
        signed_on=today, shopper_masked_name=masked_name(app),
        shopper_masked_id=mask_id_number(decrypt(app.id_number_enc)),
        merchant_name=get_merchant(session, app.merchant_id).name, store_name=get_store(session, app.store_id).name,
        funder_name=get_funder(session, funder_code).name, old_goods=old_goods, goods=goods, imei=imei,
        outstanding_fen=outstanding_fen, difference_fen=difference_fen, method=Method(method),
        annual_rate=annual_rate, fee_rate=fee_rate, apr=apr, rows=tuple(rows),
        penalty_daily_rate=product.penalty_daily_rate, grace_days=product.grace_days,
        late_fee_fen=product.late_fee_fen, prepayment_fee_rate=product.prepayment_fee_rate)
    pdf = render_addendum(addendum)
    contract = Contract(application_id=app.id, template_version=ADDENDUM_VERSION,
                        sha256=hashlib.sha256(pdf).hexdigest(), pdf=pdf, funder_code=funder_code, start_date=today)
    session.add(contract)
    session.flush()
    return contract


def get_addendum(session: Session, contract_id: int, application_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None or contract.application_id != application_id or contract.template_version != ADDENDUM_VERSION:
        raise ContractMismatch()
    return contract


def sign_addendum(session: Session, contract_id: int, application_id: int, sha256: str) -> Contract:
    """The shopper accepts the addendum they were shown (by its hash, on the day it was drawn up)."""
    contract = get_addendum(session, contract_id, application_id)
    if contract.sha256 != sha256.strip().lower() or contract.start_date != business_date(session):
        raise ContractMismatch()
    contract.signed = True
    session.flush()
    return contract
