"""The refund endpoint under an Idempotency-Key (fenqi.kit.idempotency), over real HTTP to the server: the
same person's same request again answers the same refund and pays nothing more; the same key with another
body is refused (409 idempotency_key_reused); another person's identical key is another request with its
own refund; the channel pays exactly the refunds that were made."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from fenqi.payments.models import PaymentRefund
from fenqi.payments.service import get_order
from tests.payments.payments_loopback import committed, emulator, settle_notifications
from tests.payments.test_order_scope import _key
from tests.payments.test_refunds_and_loans import paid_order


def test_a_key_is_one_refund_request_of_one_person(live_server: str) -> None:
    no = paid_order("alipay", 50_000)
    alice, bob = _key("finance")[1], _key("finance")[1]
    url, key = f"{live_server}/api/v1/payments/refunds", uuid.uuid4().hex
    body = {"out_trade_no": no, "amount": "100.00", "reason": "价保"}

    first = httpx.post(url, json=body, headers={**alice, "Idempotency-Key": key}, timeout=60)
    assert first.status_code == 201, first.text
    again = httpx.post(url, json=body, headers={**alice, "Idempotency-Key": key}, timeout=60)
    assert (again.status_code, again.json()) == (201, first.json())

    # The same key for another amount: refused, nothing refunded, and not answered with the first refund.
    other = httpx.post(url, json={**body, "amount": "200.00"}, headers={**alice, "Idempotency-Key": key}, timeout=60)
    assert other.status_code == 409, other.text
    assert other.json()["error"] == "idempotency_key_reused" and "内容不同" in other.json()["message"]
    assert first.json()["out_refund_no"] not in other.text
    english = httpx.post(url, json={**body, "amount": "200.00"}, timeout=60,
                         headers={**alice, "Idempotency-Key": key, "Accept-Language": "en"})
    assert english.status_code == 409 and "different body" in english.json()["message"]

    # Another person with the same key and body: their own refund.
    theirs = httpx.post(url, json=body, headers={**bob, "Idempotency-Key": key}, timeout=60)
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["out_refund_no"] != first.json()["out_refund_no"]

    settle_notifications("alipay")
    with committed() as s:
        made = sorted(r.amount_fen for r in s.scalars(
            select(PaymentRefund).where(PaymentRefund.order_id == get_order(s, no).id)))
    assert made == [10_000, 10_000]
    assert sorted(r.amount_fen for r in emulator("alipay").trades[no].refunds.values()) == [10_000, 10_000]
