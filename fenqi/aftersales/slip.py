"""The repair intake slip (维修受理单): a one-page PDF in Chinese (Noto CJK) the shopper keeps."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fpdf.enums import XPos, YPos
from sqlalchemy.orm import Session

from fenqi.aftersales.cases import get_case
from fenqi.aftersales.models import RepairTicket
from fenqi.aftersales.policy import PART_NAMES
from fenqi.catalog.service import get_sku, get_store
from fenqi.kit.cjk_pdf import CjkPDF, render
from fenqi.kit.settings import get_settings
from fenqi.origination.contract_pdf import SC_INDEX, font_path

SHANGHAI = ZoneInfo("Asia/Shanghai")


def intake_slip(session: Session, ticket: RepairTicket) -> bytes:
    case = get_case(session, ticket.case_id)
    store = get_store(session, case.store_id)
    sku = get_sku(session, case.sku_code)

    def make(prepared: bool) -> CjkPDF:
        doc = CjkPDF(format=(148, 210))  # A5, in millimetres
        doc.add_cjk_font("cjk", font_path(), SC_INDEX, prepared=prepared)  # parsed once per process
        doc.set_margins(12, 12, 12)
        return doc

    return render(make, lambda doc: _write(doc, ticket, case.id, store.name, sku.name_zh))


def _write(doc: CjkPDF, ticket: RepairTicket, case_id: int, store_name: str, sku_name: str) -> None:
    doc.add_page()

    def line(text: str, size: float = 10, height: float = 6) -> None:
        doc.set_font("cjk", "", size)
        doc.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line("维修受理单 Repair intake slip", 15, 9)
    line(f"受理单号：R{ticket.id:08d}    售后单：{case_id}")
    line(f"门店：{store_name}")
    line(f"受理时间：{ticket.created_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}（北京时间）")
    line(f"机型：{sku_name}    IMEI：{ticket.imei}")
    line(f"故障部件：{PART_NAMES.get(ticket.part, (ticket.part,))[0]}")
    line(f"故障描述：{ticket.fault}")
    paid = "已过保修期或人为损坏，付费维修（报价后经您同意再维修）"
    line(f"保修：{'三包保修期内，免费维修' if ticket.free else paid}")
    line(f"承诺修复日期：{ticket.deadline:%Y-%m-%d}（逾期未修复可要求备用机或换货）")
    if ticket.loaner_imei:
        line(f"备用机 IMEI：{ticket.loaner_imei}（取机时请归还）")
    line("维修期间分期月供照常扣收，请按时还款。同一故障维修两次仍未修复，可按三包规定换货。", 9)
    line(f"取机时请出示本单。客服热线 {get_settings().service_phone}。", 9)
