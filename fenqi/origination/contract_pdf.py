"""The e-contract (分期付款合同) as a PDF with correctly rendered Chinese (Noto CJK from Debian fonts-noto-cjk).

The words come from fenqi.origination.contract_text (the same blocks make the HTML page). The APR is stated
first and in the largest type of any rate; fees, penalty interest, early repayment, the 7-day return right
and the complaint channel each have their own clause. The signed PDF prints the masked name of the shopper
(the full identity is bound by the signature record); the borrower's own copy is drawn from the same blocks
with the full name (`render_document`).
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
from fenqi.origination.contract_text import TEMPLATE_VERSION, Block, complaint_channel, contract_blocks
from fenqi.origination.errors import FontMissing
from fenqi.pricing.quote import Quote
from fenqi.pricing.service import quote_from_input

FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/opentype/noto-cjk")
FONT_FILE = "NotoSansCJK-Regular.ttc"
BOLD_FILE = "NotoSansCJK-Bold.ttc"
__all__ = ["TEMPLATE_VERSION", "ContractTerms", "complaint_channel", "render_contract", "render_document"]
SC_INDEX = 2  # in the Noto CJK collection: 0 JP, 1 KR, 2 SC (simplified Chinese), 3 TC, 4 HK


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
    return render_document(contract_blocks(terms), terms.contract_no, terms.signed_on)


def render_document(blocks: list[Block], number: str, on: date) -> bytes:
    """A contract's blocks (fenqi.origination.contract_text) as a PDF; the same blocks, the same bytes."""
    return render(_Doc, lambda doc: _write(doc, blocks, number, on))  # type: ignore[arg-type]


# kind → (type size, bold, line height, space before): the APR in the largest type of any rate.
_STYLE: dict[str, tuple[float, bool, float, float]] = {
    "title": (18, True, 10, 0), "meta": (9, False, 5, 0), "apr": (16, True, 9, 2), "note": (9, False, 5, 0),
    "party": (10, False, 6, 0), "heading": (10, True, 6, 1), "para": (10, False, 6, 0), "sign": (10, False, 6, 0),
}
_SPACE_AFTER = {"note": 2.0, "table": 2.0}


def _write(doc: _Doc, blocks: list[Block], number: str, on: date) -> None:
    doc.set_title(f"分期付款合同 {number}")
    # The contract date, not the clock: the same terms render to the same bytes (and the same hash).
    doc.set_creation_date(datetime.combine(on, time(0), tzinfo=UTC))
    doc.add_page()
    previous = ""
    for block in blocks:
        kind = str(block["kind"])
        if kind == "sign" and previous != "sign":
            doc.ln(3)
        if kind == "party" and previous != "party":
            doc.ln(2)
        if kind == "table":
            doc.ln(1)
            _table(doc, block["head"], block["rows"])
        else:
            size, bold, height, before = _STYLE.get(kind, _STYLE["para"])
            if before:
                doc.ln(before)
            doc.para(str(block["text"]), size=size, bold=bold, height=height)
        if kind in _SPACE_AFTER:
            doc.ln(_SPACE_AFTER[kind])
        previous = kind


def _table(doc: _Doc, head: list[str], rows: list[list[str]]) -> None:
    widths = (14, 30, 30, 30, 30, 30)
    doc.set_font("cjk", "B", 9)
    for width, title in zip(widths, head, strict=True):
        doc.cell(width, 6, title, border=1, align="C")
    doc.ln()
    doc.set_font("cjk", "", 9)
    for row in rows:
        for width, value in zip(widths, row, strict=True):
            doc.cell(width, 6, value, border=1, align="R" if value[:1].isdigit() and "-" not in value else "C")
        doc.ln()
