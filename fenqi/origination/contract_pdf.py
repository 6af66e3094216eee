"""The e-contract (分期付款合同) as a PDF with correctly rendered Chinese (Noto CJK from Debian fonts-noto-cjk).

The APR is stated first and in the largest type of any rate; fees, penalty interest, early repayment,
the 7-day return right and the complaint channel each have their own clause. Only the masked name of
the shopper is printed (the full identity is bound by the signature record, not by the document).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from fpdf.enums import XPos, YPos

from fenqi.kit.cjk_pdf import CjkPDF, prepare, render
from fenqi.kit.money import fmt_percent, fmt_yuan
from fenqi.kit.settings import get_settings
from fenqi.origination.errors import FontMissing
from fenqi.pricing.quote import Quote
from fenqi.pricing.schedule import METHOD_NAMES_ZH
from fenqi.pricing.service import quote_from_input

TEMPLATE_VERSION = "installment-contract-2026.1"
FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/opentype/noto-cjk")
FONT_FILE = "NotoSansCJK-Regular.ttc"
BOLD_FILE = "NotoSansCJK-Bold.ttc"
SC_INDEX = 2  # in the Noto CJK collection: 0 JP, 1 KR, 2 SC (simplified Chinese), 3 TC, 4 HK


def complaint_channel() -> str:
    """Where to complain, with the customer-service number from the settings."""
    return (f"客服热线 {get_settings().service_phone}（9:00-21:00），邮箱 complaints@fenqi.example，"
            "或向当地金融监管部门反映")


@dataclass(frozen=True, slots=True)
class ContractTerms:
    contract_no: str
    signed_on: date
    shopper_masked_name: str
    shopper_masked_id: str
    merchant_name: str
    store_name: str
    funder_name: str
    goods: str
    imei: str | None
    product_name: str
    quote: Quote
    penalty_daily_rate: Decimal
    grace_days: int
    late_fee: Decimal
    prepayment_fee_rate: Decimal


def specimen_terms(contract_no: str = "FQ-SPECIMEN-1") -> ContractTerms:
    """A filled-in specimen contract (a 5,999 phone, 600 down, 12 months at 12%): what the benchmark
    renders and the layout tests read, so both measure and check the same document."""
    today = date(2026, 11, 30)
    quote = quote_from_input(None, today, price="5999", down_payment="600", term=12, method="equal-installment",
                             annual_rate="0.12")
    return ContractTerms(
        contract_no=contract_no, signed_on=today, shopper_masked_name="张**", shopper_masked_id="3101**********1234",
        merchant_name="示例手机店", store_name="南京东路店", funder_name="乙消费金融", goods="示例手机 256GB",
        imei="867530000000001", product_name="等额本息 年化12%", quote=quote, penalty_daily_rate=Decimal("0.0005"),
        grace_days=3, late_fee=Decimal("20"), prepayment_fee_rate=Decimal("0.01"),
    )


def font_path(name: str = FONT_FILE) -> Path:
    """The CJK font, or a clear error naming the package to install (never a PDF of empty boxes)."""
    override = os.environ.get("FENQI_CJK_FONT")
    candidates = [Path(override)] if override and name == FONT_FILE else []
    candidates += [Path(d) / name for d in FONT_DIRS]
    for path in candidates:
        if path.is_file():
            return path
    raise FontMissing(name)


def prepare_fonts() -> list[Path]:
    """The prepared cuts of the regular and bold SC faces (`fenqi prepare-fonts`)."""
    faces = [font_path()]
    with contextlib.suppress(FontMissing):
        faces.append(font_path(BOLD_FILE))
    return [prepare(path, SC_INDEX) for path in faces]


def warm_fonts() -> None:
    """Parse the contract's fonts now (once per process), so that no shopper's request pays for it."""
    with contextlib.suppress(FontMissing):
        _Doc()


class _Doc(CjkPDF):
    def __init__(self, prepared: bool = True) -> None:
        super().__init__(format="A4")
        regular = font_path()
        self.add_cjk_font("cjk", regular, SC_INDEX, prepared=prepared)
        try:
            bold = font_path(BOLD_FILE)
        except FontMissing:
            bold = regular
        self.add_cjk_font("cjk", bold, SC_INDEX, style="B", prepared=prepared)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(18, 15, 18)

    def para(self, text: str, size: float = 10, bold: bool = False, height: float = 6) -> None:
        self.set_font("cjk", "B" if bold else "", size)
        self.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_contract(terms: ContractTerms) -> bytes:
    """The contract PDF: the same terms give the same bytes (the fonts are parsed once per process and each
    document embeds a subset of just its glyphs, cut without fontTools' subsetter; see `fenqi.kit.cjk_pdf`)."""
    return render(_Doc, lambda doc: _write(doc, terms))  # type: ignore[arg-type]


def _write(doc: _Doc, terms: ContractTerms) -> None:
    q = terms.quote
    doc.set_title(f"分期付款合同 {terms.contract_no}")
    # The contract date, not the clock: the same terms render to the same bytes (and the same hash).
    doc.set_creation_date(datetime.combine(terms.signed_on, time(0), tzinfo=UTC))
    doc.add_page()
    doc.para("分期付款合同", size=18, bold=True, height=10)
    doc.para(f"合同编号：{terms.contract_no}    模板版本：{TEMPLATE_VERSION}    日期：{terms.signed_on.isoformat()}", 9)
    doc.ln(2)
    doc.para(f"年化利率（APR）：{fmt_percent(q.apr)}", size=16, bold=True, height=9)
    doc.para("（按实际占用本金和期限折算的年化利率，即借款成本的全部体现，含利息与各期手续费）", 9)
    doc.ln(2)
    doc.para(f"借款人（消费者）：{terms.shopper_masked_name}    身份证号：{terms.shopper_masked_id}")
    doc.para(f"销售商户：{terms.merchant_name}（{terms.store_name}）")
    doc.para(f"出借人（资金方）：{terms.funder_name}")
    doc.para(f"商品：{terms.goods}" + (f"    IMEI：{terms.imei}" if terms.imei else ""))
    doc.ln(2)
    doc.para("一、分期方案", bold=True)
    r = q.request
    doc.para(
        f"商品价格 {fmt_yuan(r.price)} 元，首付 {fmt_yuan(r.down_payment)} 元，分期本金 {fmt_yuan(q.financed)} 元；"
        f"方案：{terms.product_name}（{METHOD_NAMES_ZH[r.method]}），共 {r.term} 期，每月还款。"
        f"利息合计 {fmt_yuan(q.total_interest)} 元，手续费合计 {fmt_yuan(q.total_fee)} 元，"
        f"应还总额 {fmt_yuan(q.total_repayment)} 元。"
    )
    doc.ln(1)
    _schedule_table(doc, q)
    doc.ln(2)
    doc.para("二、费用", bold=True)
    doc.para(
        f"除上表所列利息及手续费外，不收取其他费用。年利率（名义）{fmt_percent(r.annual_rate)}，"
        f"每期手续费率 {fmt_percent(r.fee_rate)}；上述费用均已计入年化利率 {fmt_percent(q.apr)}。"
    )
    doc.para("三、逾期与罚息", bold=True)
    doc.para(
        f"每期应还款日后 {terms.grace_days} 日为宽限期；逾期超过宽限期的，"
        f"按逾期本金每日 {fmt_percent(terms.penalty_daily_rate)} 计收罚息"
        + (f"，并收取逾期费 {fmt_yuan(terms.late_fee)} 元" if terms.late_fee else "")
        + "。逾期信息可能依法报送征信机构。催收联系不在 22:00 至次日 08:00 之间进行。"
    )
    doc.para("四、提前还款", bold=True)
    doc.para(
        "借款人可随时提前结清全部剩余本金，利息计至结清之日" +
        (f"，提前还款手续费为剩余本金的 {fmt_percent(terms.prepayment_fee_rate)}。" if terms.prepayment_fee_rate
         else "，不收取提前还款手续费。")
    )
    doc.para("五、七日无理由退货", bold=True)
    doc.para(
        "网购商品自签收之日起七日内可无理由退货；拆封或试用不影响退货，商品有激活痕迹或人为损坏的除外。"
        "退货后本合同解除，已付首付及已还款项原路全额退回，不收取任何利息或费用。"
    )
    doc.para("六、投诉渠道", bold=True)
    doc.para(complaint_channel())
    doc.para("七、个人信息与征信", bold=True)
    doc.para("借款人的个人信息按其单独签署的《个人信息处理授权书》和《征信查询授权书》处理，加密存储，仅用于本合同目的。")
    doc.ln(3)
    doc.para(f"借款人：{terms.shopper_masked_name}（电子签名）    出借人：{terms.funder_name}    "
             f"商户：{terms.merchant_name}")


def _schedule_table(doc: _Doc, q: Quote) -> None:
    widths = (14, 30, 30, 30, 30, 30)
    doc.set_font("cjk", "B", 9)
    for width, head in zip(widths, ("期数", "还款日", "本金", "利息", "手续费", "应还金额"), strict=True):
        doc.cell(width, 6, head, border=1, align="C")
    doc.ln()
    doc.set_font("cjk", "", 9)
    for i in q.installments:
        row = (str(i.period), i.due_date.isoformat(), fmt_yuan(i.principal), fmt_yuan(i.interest), fmt_yuan(i.fee),
               fmt_yuan(i.total))
        for width, value in zip(widths, row, strict=True):
            doc.cell(width, 6, value, border=1, align="R" if value[:1].isdigit() and "-" not in value else "C")
        doc.ln()
