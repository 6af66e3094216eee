"""The e-contract's text (分期付款合同), once: a list of blocks that both the PDF (fenqi.origination.contract_pdf)
and the HTML page (templates shopper/contract.html) are drawn from, so that the two say the same words.

A block is a small dict stored with the contract (`Contract.document`): `{"kind": ..., "text": ...}`, or
`{"kind": "table", "head": [...], "rows": [[...], ...]}` for the schedule. Kinds: title, meta, apr, note,
party, heading, para, table, sign. Blocks naming the borrower carry `"borrower": true`; the stored text names
the borrower masked (张**), as the signed PDF does, and only the borrower's own copy puts the full name in
(`with_borrower_name`). Figures sit in the Chinese text without spaces around them (商品价格5,999.00元).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fenqi.kit.money import fmt_percent
from fenqi.kit.settings import get_settings
from fenqi.pricing.schedule import METHOD_NAMES_ZH

if TYPE_CHECKING:
    from fenqi.origination.contract_pdf import ContractTerms
    from fenqi.pricing.quote import Quote

TEMPLATE_VERSION = "installment-contract-2026.2"
Block = dict[str, Any]
TABLE_HEAD = ("期数", "还款日", "本金（元）", "利息（元）", "手续费（元）", "应还金额（元）")


def yuan(amount: Decimal) -> str:
    """An amount in the contract: thousands separators, two decimals (5,999.00)."""
    return f"{amount:,.2f}"


def day(on: date) -> str:
    return f"{on.year}年{on.month}月{on.day}日"


def contract_blocks(terms: ContractTerms) -> list[Block]:
    q = terms.quote
    r = q.request
    blocks: list[Block] = [
        {"kind": "title", "text": "分期付款合同"},
        {"kind": "meta", "text": f"合同编号：{terms.contract_no}"},
        {"kind": "meta", "text": f"签订日期：{day(terms.signed_on)}"},
        {"kind": "meta", "text": f"模板版本：{TEMPLATE_VERSION}"},
        {"kind": "apr", "text": f"年化利率（APR）：{fmt_percent(q.apr)}"},
        {"kind": "note", "text": "（按实际占用本金和期限折算的年化利率，即借款成本的全部体现，含利息与各期手续费）"},
        {"kind": "party", "text": f"借款人（消费者）：{terms.shopper_masked_name}", "borrower": True},
        {"kind": "party", "text": f"身份证号：{terms.shopper_masked_id}"},
        {"kind": "party", "text": f"销售商户：{terms.merchant_name}（{terms.store_name}）"},
        {"kind": "party", "text": f"出借人（资金方）：{terms.funder_name}"},
        {"kind": "party", "text": f"商品：{terms.goods}" + (f"（IMEI：{terms.imei}）" if terms.imei else "")},
        {"kind": "heading", "text": "一、分期方案"},
        {"kind": "para", "text": (
            f"商品价格{yuan(r.price)}元，首付{yuan(r.down_payment)}元，分期本金{yuan(q.financed)}元；"
            f"方案：{terms.product_name}（{METHOD_NAMES_ZH[r.method]}），共{r.term}期，每月还款。"
            f"利息合计{yuan(q.total_interest)}元，手续费合计{yuan(q.total_fee)}元，"
            f"应还总额{yuan(q.total_repayment)}元。")},
        _schedule(q),
        {"kind": "heading", "text": "二、费用"},
        {"kind": "para", "text": (
            f"除上表所列利息及手续费外，不收取其他费用。年利率（名义）{fmt_percent(r.annual_rate)}，"
            f"每期手续费率{fmt_percent(r.fee_rate)}；上述费用均已计入年化利率{fmt_percent(q.apr)}。")},
        {"kind": "heading", "text": "三、逾期与罚息"},
        {"kind": "para", "text": (
            f"每期应还款日后{terms.grace_days}日为宽限期；逾期超过宽限期的，"
            f"按逾期本金每日{fmt_percent(terms.penalty_daily_rate)}计收罚息"
            + (f"，并收取逾期费{yuan(terms.late_fee)}元" if terms.late_fee else "")
            + "。逾期信息可能依法报送征信机构。催收联系不在22:00至次日08:00之间进行。")},
        {"kind": "heading", "text": "四、提前还款"},
        {"kind": "para", "text": "借款人可随时提前结清全部剩余本金，利息计至结清之日" + (
            f"，提前还款手续费为剩余本金的{fmt_percent(terms.prepayment_fee_rate)}。" if terms.prepayment_fee_rate
            else "，不收取提前还款手续费。")},
        {"kind": "heading", "text": "五、七日无理由退货"},
        {"kind": "para", "text": (
            "网购商品自签收之日起七日内可无理由退货；拆封或试用不影响退货，商品有激活痕迹或人为损坏的除外。"
            "退货后本合同解除，已付首付及已还款项原路全额退回，不收取任何利息或费用。")},
        {"kind": "heading", "text": "六、投诉渠道"},
        {"kind": "para", "text": complaint_channel()},
        {"kind": "heading", "text": "七、个人信息与征信"},
        {"kind": "para", "text": "借款人的个人信息按其单独签署的《个人信息处理授权书》和《征信查询授权书》处理，"
                                 "加密存储，仅用于本合同目的。"},
        {"kind": "sign", "text": f"借款人：{terms.shopper_masked_name}（电子签名）", "borrower": True},
        {"kind": "sign", "text": f"出借人：{terms.funder_name}"},
        {"kind": "sign", "text": f"商户：{terms.merchant_name}"},
    ]
    return blocks


def _schedule(q: Quote) -> Block:
    return {"kind": "table", "head": list(TABLE_HEAD), "rows": [
        [str(i.period), i.due_date.isoformat(), yuan(i.principal), yuan(i.interest), yuan(i.fee), yuan(i.total)]
        for i in q.installments]}


def complaint_channel() -> str:
    """Where to complain, with the customer-service number from the settings."""
    return (f"客服热线{get_settings().service_phone}（9:00-21:00），邮箱complaints@fenqi.example，"
            "或向当地金融监管部门反映")


def with_borrower_name(blocks: list[Block], masked: str, full: str) -> list[Block]:
    """The borrower's own copy: the blocks naming the borrower with the full name instead of the masked one."""
    return [{**b, "text": str(b["text"]).replace(masked, full)} if b.get("borrower") and masked else b
            for b in blocks]


def plain_text(blocks: list[Block]) -> str:
    """The words of the contract in reading order (table rows cell by cell), one block per line."""
    lines: list[str] = []
    for block in blocks:
        if block["kind"] == "table":
            lines.append(" ".join(block["head"]))
            lines.extend(" ".join(row) for row in block["rows"])
        else:
            lines.append(str(block["text"]))
    return "\n".join(lines)
