"""What both gateway emulators share: trades in memory, fault injection (the counters, the `/_faults`
routes, the statement discrepancies, a failed payment at the cashier), the shopper's cashier and
agreement pages, notification delivery with retries, and China Standard Time (both channels speak it in
their messages and statements)."""

from __future__ import annotations

import heapq
import html
import itertools
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.requests import Request

from fenqi.kit.log import log
from fenqi.payments.emulators.statements import StatementLine
from fenqi.payments.settings import get_payment_settings

CST = timezone(timedelta(hours=8), "CST")


def now_cst() -> datetime:
    return datetime.now(UTC).astimezone(CST)


def cst_text(moment: datetime) -> str:
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class EmulatedRefund:
    out_refund_no: str
    refund_id: str
    amount_fen: int
    created_at: datetime
    status: str = "SUCCESS"
    hb_fee_returned_fen: int = 0  # the merchant's 花呗分期 fee given back with this refund (pro rata)


@dataclass
class EmulatedTrade:
    out_trade_no: str
    trade_no: str
    amount_fen: int
    subject: str
    notify_url: str
    return_url: str = ""
    status: str = "WAIT"  # WAIT → PAID | CLOSED
    created_at: datetime = field(default_factory=now_cst)
    paid_at: datetime | None = None
    buyer_id: str = "2088102100000001"
    trade_type: str = "PAGE"
    agreement_no: str = ""
    refunds: dict[str, EmulatedRefund] = field(default_factory=dict)
    # 花呗分期 (Alipay): periods (0: not), who pays the fee (seller percent), the fee charged.
    hb_fq_num: int = 0
    hb_fq_seller_percent: int = 0
    hb_fee_fen: int = 0

    @property
    def hb_merchant_fee_fen(self) -> int:
        return self.hb_fee_fen * self.hb_fq_seller_percent // 100

    @property
    def refunded_fen(self) -> int:
        return sum(r.amount_fen for r in self.refunds.values())


@dataclass
class EmulatedAgreement:
    external_no: str
    agreement_no: str
    notify_url: str
    return_url: str
    status: str = "TEMP"  # TEMP → NORMAL | STOP
    signed_at: datetime | None = None


@dataclass
class Faults:
    """Fault injection, set through the emulator's `/_faults` endpoint (demo and tests).

    Counters apply to the next N notifications; `statement` edits the next statement fetched.
    """

    drop: int = 0  # notifications never sent (the order must be found by polling)
    duplicate: int = 0  # each of the next N notifications is sent this many extra times at once
    duplicate_copies: int = 2
    delay_seconds: float = 0.0  # every notification waits this long first
    fail_deliveries: int = 0  # the first attempt of each of the next N notifications fails (then retried)
    reorder: bool = False  # hold notifications and release them newest first on /_faults/flush
    fail_payments: int = 0  # the next N payments or debits fail (e.g. insufficient balance)
    fail_refunds: int = 0  # the next N refund requests are refused (e.g. the merchant account short of funds)
    lose_refunds: int = 0  # the next N refund requests are answered "no such order" (refused for good)
    corrupt_signature: int = 0  # the next N notifications carry a broken signature
    statement_extra: int = 0  # add N lines for trades we never created (长款)
    statement_missing: int = 0  # leave out N paid trades (短款)
    statement_amount: int = 0  # change the amount of N lines by one yuan
    statement_status: int = 0  # report N paid trades as refunded in full
    statement_hb_fee: int = 0  # charge the merchant one yuan more 花呗分期 fee on N lines
    statement_targets: list[str] = field(default_factory=list)  # limit the line faults to these out_trade_nos

    def take(self, name: str) -> bool:
        value = getattr(self, name)
        if value > 0:
            setattr(self, name, value - 1)
            return True
        return False


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    url: str = field(compare=False)
    send: Callable[[httpx.Client, str], bool] = field(compare=False)
    attempt: int = field(compare=False, default=0)
    label: str = field(compare=False, default="")


class Notifier:
    """Delivers notifications on a background thread and retries them on the channel's schedule
    (seconds after the first attempt, multiplied by `scale`) until the receiver acknowledges."""

    def __init__(self, schedule: list[float], scale: float, name: str) -> None:
        self.schedule = schedule
        self.scale = scale
        self.name = name
        self._heap: list[_Delivery] = []
        self._held: list[_Delivery] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._inflight = 0
        self.delivered: list[str] = []
        self.attempts = 0

    def start(self) -> None:
        with self._cv:
            if self._thread is None:
                self._stopped = False
                self._thread = threading.Thread(target=self._run, name=f"{self.name}-notifier", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def submit(self, url: str, send: Callable[[httpx.Client, str], bool], *, delay: float = 0.0,
               hold: bool = False, label: str = "") -> None:
        item = _Delivery(time.monotonic() + delay, next(self._seq), url, send, 0, label)
        with self._cv:
            if hold:
                self._held.append(item)
            else:
                heapq.heappush(self._heap, item)
                self._cv.notify_all()
        self.start()

    def flush_held(self, newest_first: bool = True) -> int:
        """Release held notifications, newest first: the receiver sees them out of order."""
        with self._cv:
            held = list(reversed(self._held)) if newest_first else list(self._held)
            self._held.clear()
            now = time.monotonic()
            for offset, item in enumerate(held):
                item.due = now + offset * 0.01
                heapq.heappush(self._heap, item)
            self._cv.notify_all()
        return len(held)

    def idle(self) -> bool:
        with self._cv:
            return not self._heap and not self._inflight

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.01)
        return self.idle()

    def _next(self) -> _Delivery | None:
        with self._cv:
            while not self._stopped:
                if self._heap and self._heap[0].due <= time.monotonic():
                    self._inflight += 1
                    return heapq.heappop(self._heap)
                timeout = (self._heap[0].due - time.monotonic()) if self._heap else None
                self._cv.wait(timeout)
            return None

    def _run(self) -> None:
        # A pool, so that copies of one notification due at the same moment really arrive at once.
        with httpx.Client(timeout=10.0) as client, ThreadPoolExecutor(8, thread_name_prefix=self.name) as pool:
            while (item := self._next()) is not None:
                pool.submit(self._deliver, client, item)

    def _deliver(self, client: httpx.Client, item: _Delivery) -> None:
        try:
            self._attempt(client, item)
        except Exception as exc:  # a broken receiver must never kill the emulator's delivery thread
            log.warning("emulator.notify.crash", emulator=self.name, error=repr(exc))
        finally:
            with self._cv:
                self._inflight -= 1

    def _attempt(self, client: httpx.Client, item: _Delivery) -> None:
        self.attempts += 1
        try:
            ok = item.send(client, item.url)
        except httpx.HTTPError as exc:
            log.info("emulator.notify.error", emulator=self.name, label=item.label, error=type(exc).__name__)
            ok = False
        if ok:
            self.delivered.append(item.label)
            return
        if item.attempt >= len(self.schedule):
            log.info("emulator.notify.gave_up", emulator=self.name, label=item.label)
            return
        item.due = time.monotonic() + self.schedule[item.attempt] * self.scale
        item.attempt += 1
        with self._cv:
            heapq.heappush(self._heap, item)
            self._cv.notify_all()


def _failing_once(send: Callable[[httpx.Client, str], bool]) -> Callable[[httpx.Client, str], bool]:
    """The first attempt is lost on the way (a timeout, a reset connection); retries go through."""
    failed: list[bool] = []

    def attempt(client: httpx.Client, url: str) -> bool:
        if not failed:
            failed.append(True)
            return False
        return send(client, url)

    return attempt


def dispatch(notifier: Notifier, faults: Faults, url: str, send: Callable[[httpx.Client, str], bool],
             label: str) -> None:
    """Queue one notification, applying the injected faults (drop, duplicate, delay, reorder)."""
    if faults.take("drop"):
        log.info("emulator.notify.dropped", emulator=notifier.name, label=label)
        return
    copies = 1 + (faults.duplicate_copies if faults.take("duplicate") else 0)
    if faults.take("fail_deliveries"):
        send = _failing_once(send)
    for _ in range(copies):
        notifier.submit(url, send, delay=faults.delay_seconds, hold=faults.reorder, label=label)


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def parse_yuan_fen(text: str) -> int:
    from decimal import Decimal

    return int((Decimal(text) * 100).to_integral_value())


def statement_day(moment: datetime | None) -> date | None:
    return moment.astimezone(CST).date() if moment else None


CASHIER_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;background:{bg};margin:0}}
main{{max-width:420px;margin:40px auto;background:#fff;border-radius:12px;padding:24px;text-align:center}}
.amount{{font-size:2.2em;font-weight:700;margin:12px 0}} button{{background:{brand};color:#fff;border:0;
border-radius:8px;padding:12px 28px;font-size:1.1em;cursor:pointer}} .muted{{color:#6b7280;font-size:.85em}}</style>
</head><body><main><h2>{title}</h2><p>{subject}</p><div class="amount">¥{amount}</div>
<p class="muted">{note}</p>{body}
<p class="muted">本页面为本地网关模拟器 · local gateway emulator</p></main></body></html>"""


def cashier_html(*, title: str, subject: str, amount: str, note: str, action: str, button: str,
                 brand: str, bg: str, done: bool = False) -> str:
    body = "<p>✓</p>" if done else (
        f'<form method="post" action="{action}"><button type="submit">{button}</button></form>'
    )
    return CASHIER_PAGE.format(title=title, subject=html.escape(subject), amount=amount, note=note, body=body,
                               brand=brand, bg=bg)


def public_base(request: Request) -> str:
    """The emulator's own public URL, mount prefix included (for cashier and download links)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


# -- fault injection shared by both emulators -------------------------------------------------


def apply_statement_faults(faults: Faults, lines: list[StatementLine], day: date) -> list[StatementLine]:
    """Injected discrepancies: a line for an unknown trade, a missing line, a changed amount, a
    payment reported as refunded in full."""
    targets = set(faults.statement_targets)
    pays = [i for i, ln in enumerate(lines) if ln.kind == "pay" and (not targets or ln.out_trade_no in targets)]
    out = list(lines)
    drop: set[int] = set()
    for i in pays:
        if out[i].hb_fq_num and faults.take("statement_hb_fee"):
            out[i] = replace(out[i], hb_merchant_fee_fen=out[i].hb_merchant_fee_fen + 100)
        elif faults.take("statement_amount"):
            out[i] = replace(out[i], amount_fen=out[i].amount_fen + 100)
        elif faults.take("statement_status"):
            ln = out[i]
            out.append(StatementLine("refund", ln.trade_no, ln.out_trade_no, ln.amount_fen, ln.created_at,
                                     ln.finished_at, ln.subject, f"R{ln.trade_no}", f"EMU{ln.out_trade_no}"))
        elif faults.take("statement_missing"):
            drop.add(i)
    out = [ln for i, ln in enumerate(out) if i not in drop]
    while faults.take("statement_extra"):
        moment = datetime.combine(day, datetime.min.time(), CST).replace(hour=12)
        out.append(StatementLine("pay", f"{day:%Y%m%d}2299{uuid.uuid4().int % 10**14:014d}",
                                 f"UNKNOWN{uuid.uuid4().hex[:12].upper()}", 8888, moment, moment, "未知交易"))
    return out


def install_fault_routes(app: FastAPI, faults: Faults, notifier: Notifier, trades: Any) -> None:
    """Fault injection and inspection for the demo and the tests (not part of any real gateway)."""

    @app.get("/_faults")
    def get_faults() -> dict[str, Any]:
        return asdict(faults)

    @app.post("/_faults")
    async def set_faults(request: Request) -> dict[str, Any]:
        body = await request.json()
        for name, value in body.items():
            if hasattr(faults, name):
                setattr(faults, name, type(getattr(faults, name))(value))
        return asdict(faults)

    @app.post("/_faults/flush")
    def flush() -> dict[str, int]:
        return {"released": notifier.flush_held()}

    @app.post("/_faults/reset")
    def reset() -> dict[str, Any]:
        fresh = Faults()
        for name, value in asdict(fresh).items():
            setattr(faults, name, value)
        return asdict(faults)

    @app.get("/_state")
    def state() -> dict[str, Any]:
        return {"trades": len(trades()), "attempts": notifier.attempts, "delivered": len(notifier.delivered),
                "idle": notifier.idle()}


# -- the shopper at the channel: the cashier and the agreement pages ---------------------------


def pay_trade(lock: threading.RLock, trades: dict[str, EmulatedTrade], faults: Faults, trade_no: str,
              notify: Callable[[EmulatedTrade], None]) -> EmulatedTrade | None:
    """The shopper pays at the cashier: a waiting trade is paid and notified, unless the `fail_payments`
    fault refuses it (it stays waiting, as a real card refused at the till)."""
    with lock:
        trade = next((t for t in trades.values() if t.trade_no == trade_no), None)
        if trade is None or trade.status != "WAIT":
            return trade
        if faults.take("fail_payments"):
            return trade
        trade.status, trade.paid_at = "PAID", now_cst()
    notify(trade)
    return trade


def sign_agreement(lock: threading.RLock, agreements: dict[str, EmulatedAgreement],
                   agreement_no: str) -> EmulatedAgreement | None:
    """The shopper agrees to the debit agreement on the channel's page."""
    with lock:
        agreement = next((a for a in agreements.values() if a.agreement_no == agreement_no), None)
        if agreement is not None and agreement.status == "TEMP":
            agreement.status, agreement.signed_at = "NORMAL", now_cst()
    return agreement


@dataclass(frozen=True)
class ChannelPages:
    """How one channel's shopper pages look and where they send the shopper back."""

    cashier_title: str
    pay_button: str
    missing_trade: str  # the page for an unknown trade number
    agreement_title: str
    agreement_path: str  # "agreement" (Alipay) or "contract" (WeChat Pay)
    agreement_label: str  # the agreement's number as the channel names it
    brand: str
    bg: str
    cashier_note: Callable[[EmulatedTrade], str]
    return_to: Callable[[EmulatedTrade], str]  # where the browser goes after paying ("" = stay)
    takes_redirect_url: bool = False  # WeChat H5: the cashier link carries the way back


def install_shopper_pages(app: FastAPI, pages: ChannelPages, *, trades: Callable[[], dict[str, EmulatedTrade]],
                          agreements: Callable[[], dict[str, EmulatedAgreement]],
                          pay: Callable[[str], EmulatedTrade | None],
                          sign: Callable[[str], EmulatedAgreement | None]) -> None:
    """The cashier (pay a trade) and the agreement page (sign a debit agreement), the same for both channels
    but for their look and their way back."""

    @app.get("/cashier/{trade_no}", response_class=HTMLResponse)
    def cashier(trade_no: str, redirect_url: str = "") -> HTMLResponse:
        trade = next((t for t in trades().values() if t.trade_no == trade_no), None)
        if trade is None:
            return HTMLResponse(f"<h1>{pages.missing_trade}</h1>", status_code=404)
        if redirect_url and pages.takes_redirect_url:
            trade.return_url = redirect_url
        return HTMLResponse(cashier_html(
            title=pages.cashier_title, subject=trade.subject, amount=yuan(trade.amount_fen),
            note=pages.cashier_note(trade), action=f"{trade_no}/pay", button=pages.pay_button,
            brand=pages.brand, bg=pages.bg, done=trade.status != "WAIT",
        ))

    @app.post("/cashier/{trade_no}/pay")
    def cashier_pay(trade_no: str) -> Response:
        trade = pay(trade_no)
        if trade is None:
            return HTMLResponse(f"<h1>{pages.missing_trade}</h1>", status_code=404)
        if trade.status != "PAID":
            return HTMLResponse("<h1>支付失败 · payment failed</h1>", status_code=402)
        if back := pages.return_to(trade):
            return RedirectResponse(back, status_code=303)
        return HTMLResponse("<h1>支付成功 · paid</h1>")

    @app.get(f"/{pages.agreement_path}/{{agreement_no}}", response_class=HTMLResponse)
    def agreement_page(agreement_no: str) -> HTMLResponse:
        agreement = next((a for a in agreements().values() if a.agreement_no == agreement_no), None)
        if agreement is None:
            return HTMLResponse("<h1>协议不存在</h1>", status_code=404)
        return HTMLResponse(cashier_html(
            title=pages.agreement_title, subject="分期月供自动扣款", amount="—",
            note=f"{pages.agreement_label} {agreement.external_no}", action=f"{agreement_no}/sign",
            button="同意并开通", brand=pages.brand, bg=pages.bg, done=agreement.status != "TEMP",
        ))

    @app.post(f"/{pages.agreement_path}/{{agreement_no}}/sign")
    def agreement_sign(agreement_no: str) -> Response:
        agreement = sign(agreement_no)
        if agreement is None:
            return HTMLResponse("<h1>协议不存在</h1>", status_code=404)
        if agreement.return_url:
            return RedirectResponse(agreement.return_url, status_code=303)
        return HTMLResponse("<h1>已开通 · signed</h1>")


def run_alone(app: FastAPI, *, name: str, path: str, port: int, argv: list[str] | None) -> None:
    """An emulator on its own port (`python -m fenqi.payments.emulators.<channel> --port N`)."""
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description=f"{name} gateway emulator (local, for demos and tests)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    args = parser.parse_args(argv)
    keys_dir = get_payment_settings().payment_keys_dir
    print(f"{name} emulator: http://{args.host}:{args.port}{path}  (keys in {keys_dir})")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
