"""A sale made for real, for the after-sales tests: a shopper applies online, signs, pays the down payment
at the emulated cashier, pays installments through the emulated channels; then the API is called over
HTTP on the live server (each request commits, like production)."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.origination.world import TODAY, World, build_world, clean_id_number
from tests.payments.payments_loopback import committed, order_status, shopper_pays, wait_for

_births = itertools.count()


@dataclass
class Sale:
    world: World
    loan_id: int
    application_id: int
    imei: str
    shopper: dict[str, str]  # Authorization header of the shopper who bought it
    clerk: dict[str, str]  # a clerk of the merchant
    down_payment_order: str | None
    price_fen: int
    down_payment_fen: int


def api_key(role: str, merchant_id: int | None = None, phone: str | None = None) -> tuple[int, dict[str, str]]:
    from fenqi.identity.service import create_api_key, create_user

    with committed() as s:
        user = create_user(s, role=role, display_name=f"售后测试 {role}", merchant_id=merchant_id, phone=phone)
        _, key = create_api_key(s, user, name="test")
        return int(user.id), {"Authorization": f"Bearer {key}"}


def _phone() -> str:
    return f"137{uuid.uuid4().int % 10**8:08d}"


def make_sale(*, down_payment: str = "1000.00", product: str = "EI-12", term: int = 12, channel: str = "alipay",
              sku: str | None = None, on: date = TODAY, shopper_user_id: int | None = None) -> Sale:
    """Sold online on `on` (the shopper's own application), the down payment paid at the cashier."""
    from fenqi.demo.history import archived_contracts
    from fenqi.identity.principal import Principal
    from fenqi.kit.clock import set_business_date
    from fenqi.origination import service, signing
    from fenqi.origination.schemas import ApplicationIn

    suffix = uuid.uuid4().hex[:8].upper()
    phone = _phone()
    with committed() as s:
        world = build_world(s, suffix)
    if shopper_user_id is None:
        shopper_id, shopper = api_key("shopper", phone=phone)
    else:
        shopper_id, shopper = shopper_user_id, {}
    _, clerk = api_key("clerk", world.merchant_id)
    with committed() as s:
        set_business_date(s, on)
        who = Principal(shopper_id, "shopper", None, "售后测试顾客")
        birth = date(1980, 1, 1) + timedelta(days=37 * next(_births))
        body = ApplicationIn.model_validate(world.body(
            imei=world.devices[0], sku=sku or world.sku, down_payment=down_payment, product=product, term=term,
            phone=phone, id_number=clean_id_number(birth)))
        result = service.submit(s, body, who, service.Origin(ip="127.0.0.1", device="test"))
        app = result.application
        assert app.status == "approved", (app.status, app.reasons)
        with archived_contracts():
            contract = signing.generate_contract(s, app)
        signed = signing.sign(s, app, contract_sha256=contract.sha256, consent_version="e-contract-2026.1",
                              imei=None, channel=channel, principal=who, origin=service.Origin("127.0.0.1", "t"))
        sale = Sale(world, signed.loan_id, app.id, app.device_imei or "", shopper, clerk,
                    signed.payment["out_trade_no"] if signed.payment else None, app.price_fen, app.down_payment_fen)
        pay_url = signed.payment["pay_url"] if signed.payment else None
    if pay_url and sale.down_payment_order:
        settle(sale.down_payment_order, pay_url)
    return sale


def settle(out_trade_no: str, pay_url: str) -> None:
    """The shopper pays at the emulated cashier; the order is settled (by its notification or a poll)."""
    from fenqi.payments.polling import poll_order
    from fenqi.payments.service import get_order

    assert shopper_pays(pay_url).status_code == 200
    if not wait_for(lambda: order_status(out_trade_no) == "paid", timeout=5):
        with committed() as s:
            poll_order(s, get_order(s, out_trade_no, lock=True))
    assert order_status(out_trade_no) == "paid"


def pay_installment(sale: Sale, amount_fen: int, channel: str = "wechatpay", purpose: str = "installment") -> str:
    from fenqi.payments.service import create_order

    with committed() as s:
        order = create_order(s, purpose=purpose, amount_fen=amount_fen, channel=channel, subject="月供 测试",
                             loan_id=sale.loan_id, application_id=sale.application_id)
        number, url = order.out_trade_no, order.pay_url
    settle(number, url)
    return number


def set_day(day: int, sale_date: date = TODAY) -> None:
    """Move the business date to `day` days after the sale."""
    from fenqi.kit.clock import set_business_date

    with committed() as s:
        set_business_date(s, sale_date + timedelta(days=day))


def run_cob(days: int) -> None:
    """Close `days` business days (accrual, installments falling due, penalties), as the nightly job does."""
    from fenqi.kit.db import get_engine
    from fenqi.servicing.cob_runs import close_day

    for _ in range(days):
        close_day(get_engine())


def call(base: str, method: str, path: str, headers: dict[str, str], json: Any = None,
         key: str | None = "auto") -> httpx.Response:
    h = dict(headers)
    if key is not None and method != "GET":
        h["Idempotency-Key"] = uuid.uuid4().hex if key == "auto" else key
    return httpx.request(method, base + path, headers=h, json=json, timeout=30)


def journal_balance(account: str, merchant_loans: list[int] | None = None) -> int:
    """Debits − credits of an account over the whole book."""
    from fenqi.ledger.models import JournalLine

    with committed() as s:
        q = select(func.coalesce(func.sum(JournalLine.debit_fen - JournalLine.credit_fen), 0)).where(
            JournalLine.account == account)
        return int(s.scalar(q) or 0)


def loan_account_balances(loan_id: int) -> dict[str, int]:
    from fenqi.ledger import loan_balances

    with committed() as s:
        return {str(k): int(v) for k, v in loan_balances(s, loan_id).items()}


def loan_entry_totals(loan_id: int) -> dict[str, int]:
    """Debits − credits per account over the journal entries made for this loan (sale, payments, return)."""
    from fenqi.ledger.models import JournalEntry, JournalLine

    with committed() as s:
        rows = s.execute(select(JournalLine.account, func.sum(JournalLine.debit_fen - JournalLine.credit_fen))
                         .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                         .where(JournalEntry.loan_id == loan_id).group_by(JournalLine.account)).all()
        return {str(a): int(v) for a, v in rows}


def emulated_refunds(channel: str, out_trade_no: str) -> int:
    """What the emulated channel has refunded on a trade (fen)."""
    from tests.payments.payments_loopback import emulator

    trade = emulator(channel).trades.get(out_trade_no)
    return sum(r.amount_fen for r in trade.refunds.values()) if trade else 0


def ledger_check() -> dict[str, Any]:
    """`fenqi ledger check --json`, in-process on the test database."""
    import json

    from typer.testing import CliRunner

    from fenqi.cli import app

    result = CliRunner().invoke(app, ["ledger", "check", "--json"])
    assert result.exit_code in (0, 1), result.output
    return dict(json.loads(result.stdout))


def retire(sale: Sale) -> None:
    """Leave no open loan behind: these tests move the business date without closing the days between,
    and a later close-of-business must not find a loan with such a gap (servicing closes day by day)."""
    from fenqi.servicing.service import cancel_loan, get_loan

    with committed() as s:
        if get_loan(s, sale.loan_id).status in ("active", "overdue"):
            cancel_loan(s, sale.loan_id, return_ref=f"test-teardown:{sale.loan_id}")
