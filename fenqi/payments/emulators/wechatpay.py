"""WeChat Pay API v3 gateway emulator (public-key mode), enough of it for what Fenqi uses.

Every request must carry `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=...,nonce_str=...,
signature=...,timestamp=...,serial_no=...` signed with the merchant key over
"METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n"; every answer is signed with the emulated platform
key in the `Wechatpay-*` headers, which wechatpayv3 verifies. Endpoints: H5/native/JSAPI/app orders,
query by out_trade_no, close, refunds (idempotent by out_refund_no) and their query, the trade bill
(`/v3/bill/tradebill` then a download URL), and 委托代扣 (papay): pre-entrust signing of a
contract, contract query, and `/v3/papay/pay/transactions/apply` debits whose results arrive as
notifications. Notifications are AES-256-GCM encrypted under the API v3 key, signed, and retried on
WeChat Pay's schedule until the answer is 200 or 204.

Run alone: `python -m fenqi.payments.emulators.wechatpay --port 9002`; `fenqi demo` mounts it at
/_emulator/wechatpay on its own server.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import string
import threading
import time
import uuid
from datetime import date, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import FastAPI, Request
from fastapi.responses import Response

from fenqi.kit.log import log
from fenqi.payments.emulators import signing
from fenqi.payments.emulators import state as emulator_state
from fenqi.payments.emulators.core import (
    CST,
    ChannelPages,
    EmulatedAgreement,
    EmulatedRefund,
    EmulatedTrade,
    Faults,
    Notifier,
    apply_statement_faults,
    dispatch,
    install_fault_routes,
    install_shopper_pages,
    now_cst,
    pay_trade,
    public_base,
    run_alone,
    sign_agreement,
    statement_day,
)
from fenqi.payments.emulators.statements import StatementLine, wechat_trade_bill, wechat_trade_bill_gzip
from fenqi.payments.keys import ChannelKeys, channel_keys
from fenqi.payments.settings import PaymentSettings, get_payment_settings

# WeChat Pay retries 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h after the first try.
RETRY_SCHEDULE = [15.0, 15.0, 30.0, 180.0, 600.0, 1200.0, 1800.0, 1800.0, 1800.0, 3600.0, 10800.0, 10800.0,
                  10800.0, 21600.0, 21600.0]
TRADE_STATE = {"WAIT": "NOTPAY", "PAID": "SUCCESS", "CLOSED": "CLOSED", "FAILED": "PAYERROR"}
PAY_TYPES = {"h5": "MWEB", "native": "NATIVE", "jsapi": "JSAPI", "app": "APP"}


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(CST).isoformat(timespec="seconds")


class WechatPayEmulator:
    def __init__(self, settings: PaymentSettings, keys: ChannelKeys) -> None:
        self.mchid = settings.wechatpay_mchid
        self.appid = settings.wechatpay_appid
        self.apiv3_key = settings.wechatpay_apiv3_key.encode()
        self.merchant_serial = settings.wechatpay_cert_serial_no
        self.public_key_id = settings.wechatpay_public_key_id
        self.merchant_public = signing.load_public(keys.wechatpay_merchant.public_pem)
        self.platform_private = signing.load_private(keys.wechatpay_platform.private_pem)
        self.trades: dict[str, EmulatedTrade] = {}
        self.contracts: dict[str, EmulatedAgreement] = {}
        self.bills: dict[str, bytes] = {}
        self.faults = Faults()
        self.notifier = Notifier(RETRY_SCHEDULE, settings.emulator_retry_scale, "wechatpay")
        self.lock = threading.RLock()
        self._seq = int(time.time() * 1000) % 10**13 * 10  # never repeats across restarts

    def next_id(self, prefix: str) -> str:
        with self.lock:
            self._seq += 1
            return f"{prefix}{now_cst():%Y%m%d}{self._seq:010d}"

    # -- signatures ---------------------------------------------------------------------------

    def verify_authorization(self, header: str, method: str, path: str, body: str) -> bool:
        scheme, _, rest = header.partition(" ")
        if scheme != "WECHATPAY2-SHA256-RSA2048":
            return False
        fields: dict[str, str] = {}
        for part in rest.split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value.strip('"')
        try:
            stale = abs(time.time() - int(fields.get("timestamp", "0"))) > 300
        except ValueError:
            return False
        if stale or fields.get("mchid") != self.mchid or fields.get("serial_no") != self.merchant_serial:
            return False
        message = f"{method}\n{path}\n{fields['timestamp']}\n{fields.get('nonce_str', '')}\n{body}\n"
        return signing.verify(self.merchant_public, message, fields.get("signature", ""))

    def signed(self, status: int, body: Any = None, *, corrupt: bool = False) -> Response:
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        return Response(text, status_code=status, media_type="application/json",
                        headers=self.signature_headers(text, corrupt=corrupt))

    def signature_headers(self, text: str, *, corrupt: bool = False, timestamp: int | None = None) -> dict[str, str]:
        """Signed now (or at `timestamp`, to test how an old signature is treated)."""
        signed_at, nonce = str(int(time.time()) if timestamp is None else timestamp), secrets.token_hex(16).upper()
        signature = signing.sign(self.platform_private, f"{signed_at}\n{nonce}\n{text}\n")
        if corrupt:
            signature = signing.corrupt(signature)
        return {"Wechatpay-Timestamp": signed_at, "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
                "Wechatpay-Serial": self.public_key_id, "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"}

    def error(self, status: int, code: str, message: str) -> Response:
        return self.signed(status, {"code": code, "message": message})

    # -- resources ----------------------------------------------------------------------------

    def transaction(self, trade: EmulatedTrade) -> dict[str, Any]:
        state = TRADE_STATE[trade.status]
        if trade.status == "PAID" and trade.refunds:
            state = "REFUND"
        body: dict[str, Any] = {
            "appid": self.appid, "mchid": self.mchid, "out_trade_no": trade.out_trade_no,
            "transaction_id": trade.trade_no, "trade_type": trade.trade_type, "trade_state": state,
            "trade_state_desc": {"SUCCESS": "支付成功", "NOTPAY": "未支付", "CLOSED": "已关闭", "REFUND": "转入退款",
                                 "PAYERROR": "支付失败"}[state],
            "bank_type": "OTHERS", "attach": "", "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount": {"total": trade.amount_fen, "payer_total": trade.amount_fen if trade.paid_at else 0,
                       "currency": "CNY", "payer_currency": "CNY"},
        }
        if trade.paid_at:
            body["success_time"] = rfc3339(trade.paid_at)
        if trade.agreement_no:
            body["contract_id"] = trade.agreement_no
        return body

    def refund_body(self, trade: EmulatedTrade, refund: EmulatedRefund, status: str) -> dict[str, Any]:
        return {
            "refund_id": refund.refund_id, "out_refund_no": refund.out_refund_no,
            "transaction_id": trade.trade_no, "out_trade_no": trade.out_trade_no, "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱", "create_time": rfc3339(refund.created_at),
            "success_time": rfc3339(refund.created_at), "status": status, "funds_account": "AVAILABLE",
            "amount": {"total": trade.amount_fen, "refund": refund.amount_fen, "payer_total": trade.amount_fen,
                       "payer_refund": refund.amount_fen, "settlement_refund": refund.amount_fen,
                       "settlement_total": trade.amount_fen, "discount_refund": 0, "currency": "CNY"},
        }

    # -- notifications ------------------------------------------------------------------------

    def encrypt_resource(self, plain: dict[str, Any], original_type: str) -> dict[str, str]:
        nonce = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
        data = json.dumps(plain, ensure_ascii=False, separators=(",", ":")).encode()
        sealed = AESGCM(self.apiv3_key).encrypt(nonce.encode(), data, original_type.encode())
        return {"original_type": original_type, "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(sealed).decode(), "associated_data": original_type, "nonce": nonce}

    def notify(self, url: str, event_type: str, summary: str, plain: dict[str, Any], original_type: str,
               label: str) -> None:
        if not url:
            return
        body = json.dumps({
            "id": str(uuid.uuid4()), "create_time": rfc3339(now_cst()), "resource_type": "encrypt-resource",
            "event_type": event_type, "summary": summary, "resource": self.encrypt_resource(plain, original_type),
        }, ensure_ascii=False, separators=(",", ":"))
        corrupt = self.faults.take("corrupt_signature")

        def send(client: httpx.Client, target: str) -> bool:
            # Every delivery (each retry too) is signed afresh, as WeChat Pay does: receivers refuse
            # signatures older than five minutes.
            headers = {**self.signature_headers(body, corrupt=corrupt), "Content-Type": "application/json"}
            resp = client.post(target, content=body.encode(), headers=headers)
            return resp.status_code in (200, 204)

        dispatch(self.notifier, self.faults, url, send, label)

    def notify_transaction(self, trade: EmulatedTrade) -> None:
        paid = trade.status == "PAID"
        self.notify(trade.notify_url, "TRANSACTION.SUCCESS" if paid else "TRANSACTION.FAIL",
                    "支付成功" if paid else "支付失败", self.transaction(trade), "transaction", trade.out_trade_no)

    # -- shopper actions ----------------------------------------------------------------------

    def pay(self, transaction_id: str) -> EmulatedTrade | None:
        return pay_trade(self.lock, self.trades, self.faults, transaction_id, self.notify_transaction)

    def sign_contract(self, contract_id: str) -> EmulatedAgreement | None:
        return sign_agreement(self.lock, self.contracts, contract_id)

    def statement_lines(self, day: date) -> list[StatementLine]:
        lines: list[StatementLine] = []
        with self.lock:
            for t in self.trades.values():
                if t.status == "PAID" and statement_day(t.paid_at) == day:
                    assert t.paid_at is not None
                    lines.append(StatementLine("pay", t.trade_no, t.out_trade_no, t.amount_fen, t.created_at,
                                               t.paid_at, t.subject, trade_type=t.trade_type))
                for r in t.refunds.values():
                    if statement_day(r.created_at) == day:
                        lines.append(StatementLine("refund", t.trade_no, t.out_trade_no, r.amount_fen,
                                                   t.created_at, r.created_at, t.subject, r.refund_id,
                                                   r.out_refund_no, trade_type=t.trade_type))
        return apply_statement_faults(self.faults, lines, day)


def _canonical_path(request: Request) -> str:
    """The URL as the merchant signed it: the path below the emulator's mount point, with the query."""
    path: str = request.scope["path"]
    root: str = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    query = request.scope.get("query_string", b"").decode()
    return f"{path}?{query}" if query else path


def create_app(settings: PaymentSettings | None = None, keys: ChannelKeys | None = None) -> FastAPI:
    settings = settings or get_payment_settings()
    emu = WechatPayEmulator(settings, keys or channel_keys())
    app = FastAPI(title="WeChat Pay v3 gateway emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.emulator = emu
    if emulator_state.enabled():
        maps: dict[str, dict[str, Any]] = {"trade": emu.trades, "agreement": emu.contracts}
        emulator_state.keep_in_database(app, emulator_state.EmulatorStore("wechatpay", maps, emu.lock))

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Response:
        path = _canonical_path(request)
        if not path.startswith("/v3/"):
            response: Response = await call_next(request)
            return response
        body = (await request.body()).decode()
        if not emu.verify_authorization(request.headers.get("authorization", ""), request.method, path, body):
            log.info("emulator.wechatpay.bad_signature", path=request.url.path)
            return emu.error(401, "SIGN_ERROR", "签名错误")
        response = await call_next(request)
        return response

    @app.post("/v3/pay/transactions/{kind}")
    async def create_transaction(kind: str, request: Request) -> Response:
        body = await request.json()
        amount = int((body.get("amount") or {}).get("total") or 0)
        out_trade_no = str(body.get("out_trade_no") or "")
        if kind not in PAY_TYPES or not out_trade_no or amount <= 0 or body.get("mchid") != emu.mchid:
            return emu.error(400, "PARAM_ERROR", "参数错误")
        with emu.lock:
            trade = emu.trades.get(out_trade_no)
            if trade is not None and trade.amount_fen != amount:
                return emu.error(400, "INVALID_REQUEST", "201 商户订单号重复")
            if trade is not None and trade.status != "WAIT":
                return emu.error(400, "ORDERPAID" if trade.status == "PAID" else "ORDER_CLOSED", "订单状态不正确")
            if trade is None:
                trade = EmulatedTrade(out_trade_no, emu.next_id("4200"), amount, str(body.get("description", "")),
                                      str(body.get("notify_url", "")), trade_type=PAY_TYPES[kind])
                emu.trades[out_trade_no] = trade
        cashier = f"{public_base(request)}/cashier/{trade.trade_no}"
        answer = {"h5": {"h5_url": cashier}, "native": {"code_url": cashier}}.get(
            kind, {"prepay_id": f"wx{trade.trade_no}"})
        return emu.signed(200, answer)

    @app.get("/v3/pay/transactions/out-trade-no/{out_trade_no}")
    def query(out_trade_no: str) -> Response:
        trade = emu.trades.get(out_trade_no)
        if trade is None:
            return emu.error(404, "ORDER_NOT_EXIST", "订单不存在")
        return emu.signed(200, emu.transaction(trade))

    @app.post("/v3/pay/transactions/out-trade-no/{out_trade_no}/close")
    def close(out_trade_no: str) -> Response:
        with emu.lock:
            trade = emu.trades.get(out_trade_no)
            if trade is None:
                return emu.error(404, "ORDER_NOT_EXIST", "订单不存在")
            if trade.status == "PAID":
                return emu.error(400, "ORDERPAID", "订单已支付")
            trade.status = "CLOSED"
        return emu.signed(204)

    @app.post("/v3/refund/domestic/refunds")
    async def create_refund(request: Request) -> Response:
        body = await request.json()
        out_refund_no = str(body.get("out_refund_no") or "")
        amount = int((body.get("amount") or {}).get("refund") or 0)
        with emu.lock:
            trade = emu.trades.get(str(body.get("out_trade_no") or ""))
            if emu.faults.take("lose_refunds"):
                trade = None
            if trade is None or trade.status != "PAID":
                return emu.error(404 if trade is None else 400, "RESOURCE_NOT_EXISTS" if trade is None
                                 else "INVALID_REQUEST", "订单不存在或未支付")
            existing = trade.refunds.get(out_refund_no)
            if existing is not None:
                # Idempotent: the same out_refund_no answers the first refund, no second payout.
                return emu.signed(200, emu.refund_body(trade, existing, "SUCCESS"))
            if not out_refund_no or amount <= 0 or trade.refunded_fen + amount > trade.amount_fen:
                return emu.error(400, "INVALID_REQUEST", "退款金额超过订单可退金额")
            if emu.faults.take("fail_refunds"):
                return emu.error(403, "NOT_ENOUGH", "基本账户余额不足，请充值后重新发起")
            refund = EmulatedRefund(out_refund_no, emu.next_id("5030"), amount, now_cst())
            trade.refunds[out_refund_no] = refund
        emu.notify(str(body.get("notify_url") or trade.notify_url), "REFUND.SUCCESS", "退款成功", {
            "mchid": emu.mchid, "out_trade_no": trade.out_trade_no, "transaction_id": trade.trade_no,
            "out_refund_no": out_refund_no, "refund_id": refund.refund_id, "refund_status": "SUCCESS",
            "success_time": rfc3339(refund.created_at), "user_received_account": "支付用户零钱",
            "amount": {"total": trade.amount_fen, "refund": amount, "payer_total": trade.amount_fen,
                       "payer_refund": amount},
        }, "refund", out_refund_no)
        # Like the real gateway, the synchronous answer usually says PROCESSING; the result follows.
        return emu.signed(200, emu.refund_body(trade, refund, "PROCESSING"))

    @app.get("/v3/refund/domestic/refunds/{out_refund_no}")
    def query_refund(out_refund_no: str) -> Response:
        for trade in list(emu.trades.values()):
            refund = trade.refunds.get(out_refund_no)
            if refund is not None:
                return emu.signed(200, emu.refund_body(trade, refund, "SUCCESS"))
        return emu.error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")

    @app.get("/v3/bill/tradebill")
    def trade_bill(request: Request, bill_date: str = "", bill_type: str = "ALL", tar_type: str = "") -> Response:
        try:
            day = date.fromisoformat(bill_date)
        except ValueError:
            return emu.error(400, "PARAM_ERROR", "账单日期格式错误")
        lines = emu.statement_lines(day)
        if tar_type == "GZIP":
            content = wechat_trade_bill_gzip(lines, appid=emu.appid, mchid=emu.mchid)
            digest_source = wechat_trade_bill(lines, appid=emu.appid, mchid=emu.mchid).encode()
        else:
            content = digest_source = wechat_trade_bill(lines, appid=emu.appid, mchid=emu.mchid).encode()
        token = uuid.uuid4().hex
        emu.bills[token] = content
        base = public_base(request)
        return emu.signed(200, {"hash_type": "SHA1", "hash_value": hashlib.sha1(digest_source).hexdigest(),
                                "download_url": f"{base}/v3/billdownload/file?token={token}"})

    @app.get("/v3/billdownload/file")
    def bill_file(token: str = "") -> Response:
        content = emu.bills.get(token)
        if content is None:
            return emu.error(404, "NO_STATEMENT_EXIST", "账单不存在")
        return Response(content, media_type="application/octet-stream")

    @app.post("/v3/papay/sign/contracts/pre-entrust-sign/h5")
    async def pre_entrust_sign(request: Request) -> Response:
        body = await request.json()
        code = str(body.get("out_contract_code") or "")
        if not code:
            return emu.error(400, "PARAM_ERROR", "缺少 out_contract_code")
        with emu.lock:
            contract = emu.contracts.get(code)
            if contract is None:
                contract = EmulatedAgreement(code, emu.next_id("2026"), str(body.get("notify_url") or ""),
                                             str(body.get("return_url") or ""))
                emu.contracts[code] = contract
        base = public_base(request)
        return emu.signed(200, {"redirect_url": f"{base}/contract/{contract.agreement_no}"})

    @app.get("/v3/papay/sign/contracts/plan-id/{plan_id}/out-contract-code/{code}")
    def contract_query(plan_id: str, code: str) -> Response:
        contract = emu.contracts.get(code)
        if contract is None:
            return emu.error(404, "RESOURCE_NOT_EXISTS", "签约协议不存在")
        state = {"TEMP": "UNSIGNED", "NORMAL": "SIGNED", "STOP": "TERMINATED"}[contract.status]
        return emu.signed(200, {"mchid": emu.mchid, "appid": emu.appid, "plan_id": plan_id,
                                "out_contract_code": code, "contract_id": contract.agreement_no,
                                "contract_state": state,
                                "contract_signed_time": rfc3339(contract.signed_at) if contract.signed_at else ""})

    @app.post("/v3/papay/pay/transactions/apply")
    async def papay_apply(request: Request) -> Response:
        body = await request.json()
        contract_id = str(body.get("contract_id") or "")
        contract = next((c for c in emu.contracts.values() if c.agreement_no == contract_id), None)
        amount = int((body.get("amount") or {}).get("total") or 0)
        out_trade_no = str(body.get("out_trade_no") or "")
        if contract is None or contract.status != "NORMAL":
            return emu.error(400, "CONTRACT_NOT_EXIST", "委托代扣协议不存在或已解约")
        if not out_trade_no or amount <= 0:
            return emu.error(400, "PARAM_ERROR", "参数错误")
        with emu.lock:
            if out_trade_no in emu.trades:
                return emu.signed(204)
            trade = EmulatedTrade(out_trade_no, emu.next_id("4200"), amount, str(body.get("description", "")),
                                  str(body.get("notify_url") or ""), trade_type="PAP", agreement_no=contract_id)
            emu.trades[out_trade_no] = trade
            # The debit is accepted now and settled asynchronously: the result comes as a notification.
            if emu.faults.take("fail_payments"):
                trade.status = "FAILED"
            else:
                trade.status, trade.paid_at = "PAID", now_cst()
        emu.notify_transaction(trade)
        return emu.signed(204)

    install_shopper_pages(app, PAGES, trades=lambda: emu.trades, agreements=lambda: emu.contracts,
                          pay=emu.pay, sign=emu.sign_contract)
    install_fault_routes(app, emu.faults, emu.notifier, lambda: emu.trades)
    return app


PAGES = ChannelPages(
    cashier_title="微信支付", pay_button="立即支付", missing_trade="订单不存在",
    agreement_title="微信支付 · 开通自动扣费", agreement_path="contract", agreement_label="签约号",
    brand="#07c160", bg="#ededed", takes_redirect_url=True,
    cashier_note=lambda trade: f"商户单号 {trade.out_trade_no} · {TRADE_STATE[trade.status]}",
    return_to=lambda trade: trade.return_url,
)


def main(argv: list[str] | None = None) -> None:
    run_alone(create_app(), name="WeChat Pay v3", path="/v3/", port=9002, argv=argv)


if __name__ == "__main__":
    main()
