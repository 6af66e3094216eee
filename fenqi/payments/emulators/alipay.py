"""Alipay OpenAPI gateway emulator (RSA2), enough of it for what Fenqi uses.

`GET|POST /gateway.do` verifies the application's RSA2 signature over the sorted parameters and
answers `{"<method>_response": {...}, "sign": "..."}` signed with the emulated Alipay key, exactly
what python-alipay-sdk verifies. Methods: alipay.trade.page.pay / wap.pay (redirect to the cashier
page), precreate (QR), query, close, refund (idempotent by out_request_no), fastpay.refund.query,
alipay.trade.pay with GENERAL_WITHHOLDING (agreement debit), alipay.user.agreement.page.sign /
query / unsign, alipay.data.dataservice.bill.downloadurl.query (GBK CSV in a zip).
Asynchronous notifications are signed form posts, retried on Alipay's schedule until the answer is
exactly `success`.

Run alone: `python -m fenqi.payments.emulators.alipay --port 9001`; `fenqi demo` mounts it at
/_emulator/alipay on its own server.
"""

from __future__ import annotations

import html
import json
import threading
import time
import uuid
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from fenqi.kit.log import log
from fenqi.payments.emulators import signing, state
from fenqi.payments.emulators.core import (
    ChannelPages,
    EmulatedAgreement,
    EmulatedRefund,
    EmulatedTrade,
    Faults,
    Notifier,
    apply_statement_faults,
    cst_text,
    dispatch,
    install_fault_routes,
    install_shopper_pages,
    now_cst,
    parse_yuan_fen,
    pay_trade,
    public_base,
    run_alone,
    sign_agreement,
    statement_day,
    yuan,
)
from fenqi.payments.emulators.huabei import fund_channel as _fund_channel
from fenqi.payments.emulators.huabei import hb_terms as _hb_terms
from fenqi.payments.emulators.huabei import returned_fee as _returned_fee
from fenqi.payments.emulators.statements import StatementLine, alipay_statement_zip
from fenqi.payments.keys import ChannelKeys, channel_keys
from fenqi.payments.settings import PaymentSettings, get_payment_settings
from fenqi.pricing.platform import fee_fen, parse_fee_rates

# Alipay retries an unacknowledged notification 4m, 10m, 10m, 1h, 2h, 6h, 15h after the first try.
RETRY_SCHEDULE = [240.0, 600.0, 600.0, 3600.0, 7200.0, 21600.0, 54000.0]
TRADE_STATUS = {"WAIT": "WAIT_BUYER_PAY", "PAID": "TRADE_SUCCESS", "CLOSED": "TRADE_CLOSED"}


class AlipayEmulator:
    def __init__(self, settings: PaymentSettings, keys: ChannelKeys) -> None:
        self.app_id = settings.alipay_app_id
        self.seller_id = settings.alipay_seller_id
        self.app_public = signing.load_public(keys.alipay_app.public_pem)
        self.platform_private = signing.load_private(keys.alipay_platform.private_pem)
        self.trades: dict[str, EmulatedTrade] = {}
        self.agreements: dict[str, EmulatedAgreement] = {}
        self.bills: dict[str, bytes] = {}
        self.faults = Faults()
        self.notifier = Notifier(RETRY_SCHEDULE, settings.emulator_retry_scale, "alipay")
        self.lock = threading.RLock()
        # The platform's 花呗分期 fee table (FENQI_EMULATOR_HB_FEE_RATES).
        self.hb_rates = parse_fee_rates(settings.emulator_hb_fee_rates)
        # The emulated merchant account exists from now on: statements cover nothing before it.
        self.started_at = now_cst()
        # Numbers keep growing across restarts, as a real channel's never repeat.
        self._seq = int(time.time() * 1000) % 10**13 * 10

    # -- helpers -------------------------------------------------------------------------------

    def _trade_no(self) -> str:
        with self.lock:
            self._seq += 1
            return f"{now_cst():%Y%m%d}2200{self._seq:014d}"

    def signed_response(self, method: str, body: dict[str, Any]) -> Response:
        key = method.replace(".", "_") + "_response"
        inner = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        sign = signing.sign(self.platform_private, inner)
        # The SDK verifies the exact text between the braces, so the body is assembled by hand.
        text = f'{{"{key}":{inner},"sign":"{sign}"}}'
        return Response(text, media_type="application/json; charset=utf-8")

    def unsigned_error(self, method: str, code: str, msg: str, sub_code: str, sub_msg: str) -> Response:
        key = method.replace(".", "_") + "_response" if method else "error_response"
        body = {key: {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}}
        return JSONResponse(body)

    def verify_request(self, params: dict[str, str]) -> bool:
        signature = params.get("sign", "")
        content = signing.alipay_sign_content(params, exclude=("sign",))
        return bool(signature) and signing.verify(self.app_public, content, signature)

    def trade_fields(self, trade: EmulatedTrade) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "code": "10000", "msg": "Success", "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "fen***@example.com", "trade_status": TRADE_STATUS[trade.status],
            "total_amount": yuan(trade.amount_fen), "buyer_user_id": trade.buyer_id,
        }
        if trade.paid_at:
            fields.update(send_pay_date=cst_text(trade.paid_at), receipt_amount=yuan(trade.amount_fen),
                          buyer_pay_amount=yuan(trade.amount_fen))
            fields["fund_bill_list"] = [{"fund_channel": _fund_channel(trade), "amount": yuan(trade.amount_fen)}]
        return fields

    # -- notifications -------------------------------------------------------------------------

    def notify_paid(self, trade: EmulatedTrade) -> None:
        if not trade.notify_url:
            return
        params = {
            "notify_time": cst_text(now_cst()), "notify_type": "trade_status_sync",
            "notify_id": uuid.uuid4().hex, "app_id": self.app_id, "charset": "utf-8", "version": "1.0",
            "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no,
            "trade_status": TRADE_STATUS[trade.status], "total_amount": yuan(trade.amount_fen),
            "receipt_amount": yuan(trade.amount_fen), "buyer_pay_amount": yuan(trade.amount_fen),
            "buyer_id": trade.buyer_id, "seller_id": self.seller_id, "subject": trade.subject,
            "gmt_create": cst_text(trade.created_at),
            "gmt_payment": cst_text(trade.paid_at or now_cst()),
        }
        if trade.agreement_no:
            params["agreement_no"] = trade.agreement_no
        params["fund_bill_list"] = json.dumps([{"amount": yuan(trade.amount_fen), "fundChannel": _fund_channel(trade)}])
        params["sign"] = signing.sign(self.platform_private, signing.alipay_sign_content(params, exclude=()))
        params["sign_type"] = "RSA2"
        if self.faults.take("corrupt_signature"):
            params["sign"] = signing.corrupt(params["sign"])

        def send(client: httpx.Client, url: str) -> bool:
            resp = client.post(url, data=params)
            # Alipay stops retrying only on the exact body "success".
            return resp.status_code == 200 and resp.text.strip() == "success"

        dispatch(self.notifier, self.faults, trade.notify_url, send, trade.out_trade_no)

    # -- actions the shopper takes on the cashier page ----------------------------------------

    def pay(self, trade_no: str) -> EmulatedTrade | None:
        return pay_trade(self.lock, self.trades, self.faults, trade_no, self.notify_paid)

    def sign_agreement(self, agreement_no: str) -> EmulatedAgreement | None:
        return sign_agreement(self.lock, self.agreements, agreement_no)

    # -- statement -----------------------------------------------------------------------------

    def statement_lines(self, day: date) -> list[StatementLine]:
        lines: list[StatementLine] = []
        with self.lock:
            for t in self.trades.values():
                if t.status in ("PAID",) and statement_day(t.paid_at) == day:
                    assert t.paid_at is not None
                    lines.append(StatementLine("pay", t.trade_no, t.out_trade_no, t.amount_fen, t.created_at,
                                               t.paid_at, t.subject, buyer="fen***@example.com",
                                               hb_fq_num=t.hb_fq_num, hb_merchant_fee_fen=t.hb_merchant_fee_fen,
                                               hb_shopper_fee_fen=t.hb_fee_fen - t.hb_merchant_fee_fen))
                for r in t.refunds.values():
                    if statement_day(r.created_at) == day:
                        lines.append(StatementLine("refund", t.trade_no, t.out_trade_no, r.amount_fen,
                                                   t.created_at, r.created_at, t.subject, r.refund_id,
                                                   r.out_refund_no, "fen***@example.com",
                                                   hb_fee_returned_fen=r.hb_fee_returned_fen))
        return apply_statement_faults(self.faults, lines, day)


def _biz(params: dict[str, str]) -> dict[str, Any]:
    try:
        value = json.loads(params.get("biz_content") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def create_app(settings: PaymentSettings | None = None, keys: ChannelKeys | None = None) -> FastAPI:
    settings = settings or get_payment_settings()
    emu = AlipayEmulator(settings, keys or channel_keys())
    app = FastAPI(title="Alipay gateway emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = emu
    if state.enabled():
        maps: dict[str, dict[str, Any]] = {"trade": emu.trades, "agreement": emu.agreements}
        state.keep_in_database(app, state.EmulatorStore("alipay", maps, emu.lock))

    @app.api_route("/gateway.do", methods=["GET", "POST"])
    async def gateway(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.form()).items()})
        method = params.get("method", "")
        if not emu.verify_request(params) or params.get("app_id") != emu.app_id:
            log.info("emulator.alipay.bad_signature", method=method)
            if method in PAGE_METHODS:
                return HTMLResponse("<h1>ILLEGAL_SIGN 验签出错</h1>", status_code=400)
            return emu.unsigned_error(method, "40002", "Invalid Arguments", "isv.invalid-signature", "验签出错")
        handler = HANDLERS.get(method)
        if handler is None:
            return emu.unsigned_error(method, "40004", "Business Failed", "isv.invalid-method", "不存在的方法名")
        base = public_base(request)
        return handler(emu, params, _biz(params), base)

    install_shopper_pages(app, PAGES, trades=lambda: emu.trades, agreements=lambda: emu.agreements,
                          pay=emu.pay, sign=emu.sign_agreement)

    @app.get("/bill/{token}")
    def bill(token: str) -> Response:
        content = emu.bills.get(token)
        if content is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(content, media_type="application/zip")

    install_fault_routes(app, emu.faults, emu.notifier, lambda: emu.trades)
    return app


def _return_to(trade: EmulatedTrade) -> str:
    """Alipay sends the browser back with the trade's numbers on the return URL."""
    if not trade.return_url:
        return ""
    sep = "&" if "?" in trade.return_url else "?"
    return (f"{trade.return_url}{sep}out_trade_no={trade.out_trade_no}&trade_no={trade.trade_no}"
            f"&total_amount={yuan(trade.amount_fen)}")


def _cashier_note(trade: EmulatedTrade) -> str:
    hb = ""
    if trade.hb_fq_num:
        shopper_fee = trade.hb_fee_fen - trade.hb_merchant_fee_fen
        fee = "免息" if not shopper_fee else f"手续费 ¥{yuan(shopper_fee)}"
        hb = f"花呗分期 {trade.hb_fq_num} 期 · {fee} · "
    return f"{hb}订单号 {trade.out_trade_no} · {TRADE_STATUS[trade.status]}"


PAGES = ChannelPages(
    cashier_title="支付宝 · 收银台", pay_button="确认付款", missing_trade="交易不存在",
    agreement_title="支付宝 · 开通免密代扣", agreement_path="agreement", agreement_label="协议号",
    brand="#1677ff", bg="#eef4ff", cashier_note=_cashier_note, return_to=_return_to,
)


# -- gateway methods ---------------------------------------------------------------------------

Handler = Any
PAGE_METHODS = ("alipay.trade.page.pay", "alipay.trade.wap.pay", "alipay.user.agreement.page.sign")


def _open_trade(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], trade_type: str
                ) -> EmulatedTrade | Response:
    method = params["method"]
    out_trade_no = str(biz.get("out_trade_no", ""))
    try:
        amount = parse_yuan_fen(str(biz.get("total_amount", "")))
    except ArithmeticError:
        amount = 0
    if not out_trade_no or amount <= 0:
        return emu.unsigned_error(method, "40002", "Invalid Arguments", "isv.missing-parameters", "缺少参数")
    hb = _hb_terms(biz)
    if isinstance(hb, str) or (hb[0] and trade_type == "WITHHOLDING"):
        return emu.signed_response(method, {"code": "40004", "msg": "Business Failed",
                                            "sub_code": "ACQ.INVALID_PARAMETER",
                                            "sub_msg": hb if isinstance(hb, str) else "代扣不支持花呗分期"})
    with emu.lock:
        trade = emu.trades.get(out_trade_no)
        if trade is not None and (trade.amount_fen, trade.hb_fq_num, trade.hb_fq_seller_percent) != (amount, *hb):
            return emu.signed_response(method, {"code": "40004", "msg": "Business Failed",
                                                "sub_code": "ACQ.CONTEXT_INCONSISTENT", "sub_msg": "交易信息被篡改"})
        if trade is None:
            trade = EmulatedTrade(out_trade_no, emu._trade_no(), amount, str(biz.get("subject", "")),
                                  params.get("notify_url", ""), params.get("return_url", ""), trade_type=trade_type,
                                  hb_fq_num=hb[0], hb_fq_seller_percent=hb[1],
                                  hb_fee_fen=fee_fen(amount, hb[0], emu.hb_rates) if hb[0] else 0)
            emu.trades[out_trade_no] = trade
    return trade


def page_pay(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], base: str) -> Response:
    trade = _open_trade(emu, params, biz, "PAGE")
    if isinstance(trade, Response):
        reason = _hb_terms(biz)
        detail = f"：{html.escape(reason)}" if isinstance(reason, str) else ""
        return HTMLResponse(f"<h1>参数错误{detail}</h1>", status_code=400)
    return RedirectResponse(f"{base}/cashier/{trade.trade_no}", status_code=302)


def precreate(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], base: str) -> Response:
    trade = _open_trade(emu, params, biz, "QR")
    if isinstance(trade, Response):
        return trade
    return emu.signed_response(params["method"], {"code": "10000", "msg": "Success",
                                                  "out_trade_no": trade.out_trade_no,
                                                  "qr_code": f"{base}/cashier/{trade.trade_no}"})


def _find(emu: AlipayEmulator, biz: dict[str, Any]) -> EmulatedTrade | None:
    if biz.get("out_trade_no"):
        return emu.trades.get(str(biz["out_trade_no"]))
    return next((t for t in emu.trades.values() if t.trade_no == biz.get("trade_no")), None)


def _not_exist(emu: AlipayEmulator, method: str) -> Response:
    return emu.signed_response(method, {"code": "40004", "msg": "Business Failed",
                                        "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"})


def query(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], base: str) -> Response:
    trade = _find(emu, biz)
    if trade is None:
        return _not_exist(emu, params["method"])
    return emu.signed_response(params["method"], emu.trade_fields(trade))


def close(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], base: str) -> Response:
    with emu.lock:
        trade = _find(emu, biz)
        if trade is None:
            return _not_exist(emu, params["method"])
        if trade.status == "PAID":
            return emu.signed_response(params["method"], {"code": "40004", "msg": "Business Failed",
                                                          "sub_code": "ACQ.TRADE_STATUS_ERROR",
                                                          "sub_msg": "交易状态不合法"})
        trade.status = "CLOSED"
    return emu.signed_response(params["method"], {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                                                  "out_trade_no": trade.out_trade_no})


def refund(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], base: str) -> Response:
    method = params["method"]
    out_request_no = str(biz.get("out_request_no") or "")
    with emu.lock:
        trade = _find(emu, biz)
        if trade is None or emu.faults.take("lose_refunds"):
            return _not_exist(emu, method)
        if trade.status != "PAID":
            return emu.signed_response(method, {"code": "40004", "msg": "Business Failed",
                                                "sub_code": "ACQ.TRADE_STATUS_ERROR", "sub_msg": "交易状态不合法"})
        out_request_no = out_request_no or trade.out_trade_no
        existing = trade.refunds.get(out_request_no)
        if existing is None and emu.faults.take("fail_refunds"):
            return emu.signed_response(method, {"code": "40004", "msg": "Business Failed",
                                                "sub_code": "ACQ.SELLER_BALANCE_NOT_ENOUGH",
                                                "sub_msg": "卖家余额不足"})
        fund_change = "N"
        if existing is None:
            amount = parse_yuan_fen(str(biz.get("refund_amount", "0")))
            if amount <= 0 or trade.refunded_fen + amount > trade.amount_fen:
                return emu.signed_response(method, {"code": "40004", "msg": "Business Failed",
                                                    "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                                                    "sub_msg": "退款金额超限"})
            trade.refunds[out_request_no] = EmulatedRefund(
                out_request_no, f"R{trade.trade_no}{len(trade.refunds)}", amount, now_cst(),
                hb_fee_returned_fen=_returned_fee(trade, amount))
            fund_change = "Y"
        # Repeating an out_request_no returns the first result and moves no money (fund_change N).
        body = {"code": "10000", "msg": "Success", "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no,
                "buyer_logon_id": "fen***@example.com", "fund_change": fund_change,
                "refund_fee": yuan(trade.refunded_fen),
                "gmt_refund_pay": cst_text(trade.refunds[out_request_no].created_at),
                "out_request_no": out_request_no}
        if trade.refunds[out_request_no].hb_fee_returned_fen:
            body["refund_charge_amount"] = yuan(trade.refunds[out_request_no].hb_fee_returned_fen)
    return emu.signed_response(method, body)


def refund_query(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], base: str) -> Response:
    trade = _find(emu, biz)
    if trade is None:
        return _not_exist(emu, params["method"])
    body: dict[str, Any] = {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                            "out_trade_no": trade.out_trade_no}
    found = trade.refunds.get(str(biz.get("out_request_no") or ""))
    if found is not None:
        body.update(out_request_no=found.out_refund_no, refund_amount=yuan(found.amount_fen),
                    total_amount=yuan(trade.amount_fen), refund_status="REFUND_SUCCESS",
                    gmt_refund_pay=cst_text(found.created_at))
    return emu.signed_response(params["method"], body)


def agreement_debit(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], base: str) -> Response:
    """alipay.trade.pay with product_code GENERAL_WITHHOLDING: debit a signed agreement (商户代扣)."""
    method = params["method"]
    agreement_no = str((biz.get("agreement_params") or {}).get("agreement_no", ""))
    if biz.get("product_code") != "GENERAL_WITHHOLDING" or not agreement_no:
        return emu.signed_response(method, {"code": "40004", "msg": "Business Failed",
                                            "sub_code": "ACQ.ACCESS_FORBIDDEN", "sub_msg": "仅支持协议代扣"})
    agreement = next((a for a in emu.agreements.values() if a.agreement_no == agreement_no), None)
    if agreement is None or agreement.status != "NORMAL":
        return emu.signed_response(method, {"code": "40004", "msg": "Business Failed",
                                            "sub_code": "ACQ.AGREEMENT_NOT_EXIST", "sub_msg": "协议不存在"})
    trade = _open_trade(emu, params, biz, "WITHHOLDING")
    if isinstance(trade, Response):
        return trade
    trade.agreement_no = agreement_no
    if trade.status == "WAIT":
        if emu.faults.take("fail_payments"):
            with emu.lock:
                trade.status = "CLOSED"
            return emu.signed_response(method, {"code": "40004", "msg": "Business Failed",
                                                "sub_code": "ACQ.BUYER_BALANCE_NOT_ENOUGH",
                                                "sub_msg": "买家余额不足", "out_trade_no": trade.out_trade_no})
        with emu.lock:
            trade.status, trade.paid_at = "PAID", now_cst()
        emu.notify_paid(trade)
    fields = emu.trade_fields(trade)
    fields["gmt_payment"] = fields.pop("send_pay_date", "")
    return emu.signed_response(method, fields)


def agreement_sign(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], base: str) -> Response:
    external_no = str(biz.get("external_agreement_no", ""))
    if not external_no:
        return HTMLResponse("<h1>参数错误</h1>", status_code=400)
    with emu.lock:
        agreement = emu.agreements.get(external_no)
        if agreement is None:
            emu._seq += 1
            agreement = EmulatedAgreement(external_no, f"2026{emu._seq:016d}", params.get("notify_url", ""),
                                          params.get("return_url", ""))
            emu.agreements[external_no] = agreement
    return RedirectResponse(f"{base}/agreement/{agreement.agreement_no}", status_code=302)


def agreement_query(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], base: str) -> Response:
    agreement = emu.agreements.get(str(biz.get("external_agreement_no", "")))
    if agreement is None:
        return emu.signed_response(params["method"], {"code": "40004", "msg": "Business Failed",
                                                      "sub_code": "USER_AGREEMENT_NOT_EXIST",
                                                      "sub_msg": "用户协议不存在"})
    return emu.signed_response(params["method"], {
        "code": "10000", "msg": "Success", "agreement_no": agreement.agreement_no,
        "external_agreement_no": agreement.external_no, "status": agreement.status,
        "sign_time": cst_text(agreement.signed_at) if agreement.signed_at else "",
        "personal_product_code": "GENERAL_WITHHOLDING_P",
    })


def agreement_unsign(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], base: str) -> Response:
    agreement = emu.agreements.get(str(biz.get("external_agreement_no", "")))
    if agreement is not None:
        agreement.status = "STOP"
    return emu.signed_response(params["method"], {"code": "10000", "msg": "Success"})


def bill_url(emu: AlipayEmulator, params: dict[str, str], biz: dict[str, Any], base: str) -> Response:
    method = params["method"]
    try:
        day = date.fromisoformat(str(biz.get("bill_date", "")))
    except ValueError:
        return emu.signed_response(method, {"code": "40004", "msg": "Business Failed",
                                            "sub_code": "isp.bill_date_error", "sub_msg": "账单日期格式错误"})
    if biz.get("bill_type") != "trade":
        return emu.signed_response(method, {"code": "40004", "msg": "Business Failed",
                                            "sub_code": "isp.bill_type_error", "sub_msg": "仅支持 trade 账单"})
    content = alipay_statement_zip(emu.statement_lines(day), seller_id=emu.seller_id, day=day,
                                   exported_at=now_cst(), covered_from=emu.started_at)
    token = uuid.uuid4().hex
    emu.bills[token] = content
    return emu.signed_response(method, {"code": "10000", "msg": "Success", "bill_download_url": f"{base}/bill/{token}"})


HANDLERS: dict[str, Handler] = {
    "alipay.trade.page.pay": page_pay,
    "alipay.trade.wap.pay": page_pay,
    "alipay.trade.precreate": precreate,
    "alipay.trade.query": query,
    "alipay.trade.close": close,
    "alipay.trade.refund": refund,
    "alipay.trade.fastpay.refund.query": refund_query,
    "alipay.trade.pay": agreement_debit,
    "alipay.user.agreement.page.sign": agreement_sign,
    "alipay.user.agreement.query": agreement_query,
    "alipay.user.agreement.unsign": agreement_unsign,
    "alipay.data.dataservice.bill.downloadurl.query": bill_url,
}


def main(argv: list[str] | None = None) -> None:
    run_alone(create_app(), name="Alipay", path="/gateway.do", port=9001, argv=argv)


if __name__ == "__main__":
    main()
