"""Auto-debit against the emulators' agreement payments, and reconciliation with injected discrepancies."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from fenqi.payments.autodebit import debit_loan, refresh_agreement, start_agreement
from fenqi.payments.emulators.core import now_cst
from fenqi.payments.models import PaymentAgreement, PaymentOrder
from fenqi.payments.refunds import refund
from tests.payments.payments_loopback import committed, order_status, settle_notifications, wait_for
from tests.payments.test_payment_flow import CHANNELS, postings
from tests.payments.test_refunds_and_loans import book, paid_order, refund_status, repayments


def signed_agreement(channel: str, loan_id: int) -> int:
    with committed() as s:
        agreement = start_agreement(s, loan_id=loan_id, channel=channel)
        sign_url, agreement_id = agreement.sign_url, agreement.id
    with httpx.Client(follow_redirects=True) as browser:  # the shopper agrees on the channel's page
        page = browser.get(sign_url)
        assert page.status_code == 200
        assert browser.post(str(page.url).rstrip("/") + "/sign").status_code == 200
    with committed() as s:
        agreement = s.get(PaymentAgreement, agreement_id)
        assert agreement is not None
        assert refresh_agreement(s, agreement).status == "active" and agreement.agreement_no
    return agreement_id


def debit(agreement_id: int, days_after_due: int) -> PaymentOrder | None:
    from fenqi.servicing.service import installments

    with committed() as s:
        agreement = s.get(PaymentAgreement, agreement_id)
        assert agreement is not None
        first_due = installments(s, agreement.loan_id)[0].due_date
        return debit_loan(s, agreement, first_due + timedelta(days=days_after_due))


@pytest.mark.parametrize("channel", CHANNELS)
def test_auto_debit_with_a_retry(live_server: str, faults, channel: str) -> None:  # type: ignore[no-untyped-def]
    loan_id = book(240_000)
    agreement_id = signed_agreement(channel, loan_id)
    faults(channel, fail_payments=1)

    first = debit(agreement_id, 0)
    assert first is not None
    if channel == "wechatpay":  # accepted, then the failure arrives as a notification
        settle_notifications(channel)
    assert wait_for(lambda: order_status(first.out_trade_no) == "failed")
    assert debit(agreement_id, 0) is None  # the retry waits for the next day

    second = debit(agreement_id, 1)
    assert second is not None and second.attempt == 2 and second.amount_fen == first.amount_fen
    assert wait_for(lambda: order_status(second.out_trade_no) == "paid")
    settle_notifications(channel)
    assert repayments(second.out_trade_no) == [(loan_id, second.amount_fen)]
    assert repayments(first.out_trade_no) == []
    assert debit(agreement_id, 3) is None  # nothing left due for that installment


def test_reconciliation_finds_each_injected_discrepancy(live_server: str, faults) -> None:  # type: ignore[no-untyped-def]
    """One of each: 长款 (a line for no order of ours), 短款 (a paid order missing from the statement),
    an amount mismatch and a status mismatch (a payment reported refunded) — and a clean refund."""
    from fenqi.cli import app as cli

    channel = "wechatpay"
    day = now_cst().date()
    paid = [paid_order(channel, 10_000 + i) for i in range(4)]
    with committed() as s:
        item = refund(s, out_trade_no=paid[3], amount_fen=5_000, reason="部分退款", refund_ref=uuid.uuid4().hex)
    assert wait_for(lambda: refund_status(item.out_refund_no) == "succeeded")
    faults(channel, statement_targets=paid[:3], statement_amount=1, statement_status=1, statement_missing=1,
           statement_extra=1)

    result = CliRunner().invoke(cli, ["reconcile", "--channel", channel, "--date", day.isoformat(), "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    found = {(d["category"], d["out_trade_no"]): d for d in report["discrepancies"]}
    assert ("amount_mismatch", paid[0]) in found and found[("amount_mismatch", paid[0])]["channel_amount"] == "101.00"
    assert ("status_mismatch", paid[1]) in found and found[("status_mismatch", paid[1])]["action"] == "record_refund"
    assert ("short", paid[2]) in found and found[("short", paid[2])]["action"] == "query_and_reverse"
    longs = [d for d in report["discrepancies"] if d["category"] == "long"]
    assert len(longs) == 1 and longs[0]["out_trade_no"].startswith("UNKNOWN")
    assert longs[0]["action"] == "refund_payer"
    assert not any(d["out_trade_no"] == paid[3] for d in report["discrepancies"])  # paid, refunded, both agree
    assert report["counts"]["matched"] >= 2
    assert postings(item.out_refund_no)  # the refund that matched is in the ledger


def test_the_batch_debits_every_active_agreement_once(live_server: str) -> None:
    from fenqi.payments.autodebit import run_batch
    from fenqi.servicing.service import installments

    loan_id = book(120_000)
    agreement_id = signed_agreement("alipay", loan_id)
    with committed() as s:
        due = installments(s, loan_id)[0].due_date

    first = run_batch(due)
    again = run_batch(due)

    assert first.debited >= 1 and first.paid >= 1 and not first.errors
    assert again.debited == 0  # nothing is due any more for that date
    with committed() as s:
        orders = list(s.scalars(select(PaymentOrder).where(PaymentOrder.agreement_id == agreement_id)))
    assert [(o.status, o.attempt, o.due_date) for o in orders] == [("paid", 1, due)]
    assert repayments(orders[0].out_trade_no) == [(loan_id, orders[0].amount_fen)]


def test_one_crashing_item_does_not_stop_the_batch(live_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected error while debiting one loan (here: servicing failing for that loan) is logged and
    reported; the batch goes on and debits the next agreement."""
    from fenqi.payments import servicing_port
    from fenqi.payments.autodebit import run_batch
    from fenqi.servicing.service import installments

    broken_loan, good_loan = book(120_000), book(130_000)
    broken, good = signed_agreement("alipay", broken_loan), signed_agreement("wechatpay", good_loan)
    with committed() as s:
        due = installments(s, good_loan)[0].due_date
    real = servicing_port.amount_due

    def amount_due(session, loan_id, on):  # type: ignore[no-untyped-def]
        if loan_id == broken_loan:
            raise RuntimeError("servicing is broken for this loan")
        return real(session, loan_id, on)

    monkeypatch.setattr(servicing_port, "amount_due", amount_due)
    result = run_batch(due)
    assert f"agreement {broken}: unexpected RuntimeError" in result.errors
    settle_notifications("wechatpay")
    with committed() as s:
        orders = list(s.scalars(select(PaymentOrder).where(PaymentOrder.agreement_id.in_([broken, good]))))
    assert [(o.agreement_id, o.attempt) for o in orders] == [(good, 1)]
    assert wait_for(lambda: order_status(orders[0].out_trade_no) == "paid")


def test_reconciliation_covers_only_what_the_statement_covers(live_server: str, faults) -> None:  # type: ignore[no-untyped-def]
    """Orders our back office settled before the channel account existed (the demo's simulated history)
    fall outside the period the statement states (`#起始日期`): not reported 短款, today or on an earlier
    day. A payment the channel took and left out of its statement still is."""
    from datetime import datetime, time

    from fenqi.cli import app as cli
    from fenqi.payments.emulators.core import CST
    from fenqi.payments.service import get_order, mark_paid
    from tests.payments.payments_loopback import emulator
    from tests.payments.test_payment_flow import open_order

    emu = emulator("alipay")
    day = now_cst().date()
    midnight = datetime.combine(day, time.min, CST)
    if emu.started_at <= midnight + timedelta(seconds=2):
        pytest.skip("the emulator started at midnight: no part of today before it")
    history = {}
    for when in (midnight + (emu.started_at - midnight) / 2, midnight - timedelta(hours=14)):
        order = open_order("alipay", 12_300)
        with committed() as s:
            assert mark_paid(s, get_order(s, order.out_trade_no), trade_no=f"DEMO{order.id}", paid_at=when,
                             amount_fen=12_300)
        history[when.date()] = order.out_trade_no
    missing = paid_order("alipay", 45_600)
    faults("alipay", statement_targets=[missing], statement_missing=1)

    for on, old in history.items():
        result = CliRunner().invoke(cli, ["reconcile", "--channel", "alipay", "--date", on.isoformat(), "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout.strip().splitlines()[-1])
        shorts = {d["out_trade_no"] for d in report["discrepancies"] if d["category"] == "short"}
        assert old not in shorts, on
        assert report["covered"] is not None
        if on == day:
            assert missing in shorts
            assert datetime.fromisoformat(report["covered"][0]) == emu.started_at.replace(microsecond=0)
