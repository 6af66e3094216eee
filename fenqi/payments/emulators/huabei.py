"""花呗分期 in the Alipay emulator: the extend_params Alipay accepts, and how a Huabei payment is labelled."""

from __future__ import annotations

from typing import Any

from fenqi.payments.emulators.core import EmulatedTrade
from fenqi.pricing.platform import HB_TERMS, SELLER_PERCENTS, returned_fee_fen


def fund_channel(trade: EmulatedTrade) -> str:
    return "PCREDIT" if trade.hb_fq_num else "ALIPAYACCOUNT"  # PCREDIT: 花呗


def hb_terms(biz: dict[str, Any]) -> tuple[int, int] | str:
    """extend_params.hb_fq_num / hb_fq_seller_percent as Alipay checks them: (0, 0) without 花呗分期,
    the error's sub_msg for anything but 3/6/12 periods and a percent of 0 or 100."""
    extend = biz.get("extend_params") or {}
    if not isinstance(extend, dict):
        return "extend_params 格式错误"
    num, percent = extend.get("hb_fq_num"), extend.get("hb_fq_seller_percent")
    if num in (None, ""):
        return "hb_fq_seller_percent 须与 hb_fq_num 同传" if percent not in (None, "") else (0, 0)
    try:
        term, share = int(str(num)), int(str(percent if percent not in (None, "") else "0"))
    except ValueError:
        return "花呗分期参数格式错误"
    if term not in HB_TERMS:
        return "hb_fq_num 仅支持 3、6、12"
    if share not in SELLER_PERCENTS:
        return "hb_fq_seller_percent 仅支持 0、100"
    return term, share


def returned_fee(trade: EmulatedTrade, refund_fen: int) -> int:
    """A refund of a 花呗分期 trade whose fee the merchant paid gives the merchant back the fee in
    proportion to the amount refunded (the whole fee on a full refund), cumulatively over the trade's
    refunds. The shopper's part of the fee is between the shopper and Huabei: it never passes through
    the merchant's account, so it is not in the merchant's refund either."""
    return returned_fee_fen(trade.hb_merchant_fee_fen, trade.amount_fen, trade.refunded_fen, refund_fen)
