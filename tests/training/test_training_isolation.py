"""Training mode: a day of a training store's practice (a sale with its down payment, a decline, the sale's
return, the close of the day) leaves the real books and every report exactly as they are without it; the
practice itself is complete, in the ledger's training book, at the training funder, and at no payment
channel. Then the clerks' checklist and the store manager's reset."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.analytics import service as analytics
from fenqi.catalog.errors import NotTrainingMerchant
from fenqi.catalog.service import get_device, get_merchant_by_code, list_skus
from fenqi.funding.partner_facts import funder_costs
from fenqi.payments.partner_facts import channel_facts
from fenqi.payments.routing import windows
from fenqi.payments.service import find_order, pay_training_order
from fenqi.risk.service import review_queue, stats
from fenqi.servicing.check import check_books
from fenqi.servicing.cob_runs import run_cob
from fenqi.training import seed as training_seed
from fenqi.training import service as training
from tests.origination.test_signing import approved, contract, sign
from tests.origination.world import TODAY, World, build_world

START, END = TODAY - timedelta(days=30), TODAY + timedelta(days=1)


def reports(client: TestClient, session: Session, finance: dict[str, str]) -> dict[str, Any]:
    """Every report's output: the ledger check and trial balance, the analytics API's tables, the
    dashboard's figures, risk monitoring and the review queue, the partners' measured figures, the
    channels' routing window and the shelf stock shoppers see."""
    session.flush()
    out: dict[str, Any] = {"check": check_books(session).to_json()}
    for url in ("/api/v1/ledger/trial-balance", "/api/v1/ledger/check",
                f"/api/v1/analytics/funnel?start={START}&end={END}&by=store",
                f"/api/v1/analytics/funnel?start={START}&end={END}&by=clerk",
                "/api/v1/analytics/portfolio", "/api/v1/analytics/products"):
        got = client.get(url, headers=finance)
        assert got.status_code == 200, (url, got.text)
        out[url] = got.json()
    out["dashboard"] = [
        analytics.sales_per_day(session, start=START, end=END),
        analytics.approval_per_day(session, start=START, end=END),
        analytics.plan_mix(session), analytics.delinquency_buckets(session), analytics.loans_by_status(session),
        analytics.outstanding_now(session), analytics.outstanding_per_day(session, start=START, end=END),
        analytics.funnel(session, start=START, end=END)]
    since = datetime(2020, 1, 1, tzinfo=UTC)
    window = (since, datetime(2100, 1, 1, tzinfo=UTC))
    out["risk"] = [stats(session, since=since), [d.id for d in review_queue(session)]]
    out["partners"] = [funder_costs(session, START, END)] + [
        channel_facts(session, c, *window, (START, END)) for c in ("alipay", "wechatpay")]
    out["routing"] = windows(session, window_minutes=60 * 24 * 365, now=datetime.now(UTC) + timedelta(minutes=1))
    out["stock"] = [(s.code, s.stock) for s in list_skus(session)]
    return json.loads(json.dumps(out, default=repr))


def _return(client: TestClient, clerk: dict[str, str], imei: str, merchant_id: int) -> None:
    """The shopper brings the phone back the same day: the desk inspects it and takes the return."""
    def post(url: str, body: dict[str, Any]) -> Any:
        got = client.post(url, json=body, headers={**clerk, "Idempotency-Key": uuid.uuid4().hex})
        assert got.status_code in (200, 201), (url, got.text)
        return got.json()

    case = post("/api/v1/aftersales/cases", {"imei": imei, "requested": "return", "reason": "fault",
                                               "description": "开不了机"})
    policy = client.get(f"/api/v1/aftersales/policy?merchant_id={merchant_id}", headers=clerk).json()
    post(f"/api/v1/aftersales/cases/{case['id']}/inspection",
         {"results": {i["code"]: True for i in policy["rules"]["checklist"]}})
    done = post(f"/api/v1/aftersales/cases/{case['id']}/decision", {"outcome": "return"})
    assert done["status"] == "completed", done


def practice_day(client: TestClient, session: Session, trainee: dict[str, str], with_return: bool = False
                 ) -> dict[str, Any]:
    """A training clerk's sale (approved, signed, down payment by the practice payment), a decline and,
    if asked, the sale's return (refunded without a channel, the funder's disbursement unwound)."""
    merchant = get_merchant_by_code(session, training_seed.MERCHANT[0])
    consents = {"consent_credit_inquiry": "credit-inquiry-2026.1", "consent_personal_info": "personal-info-2026.1"}
    form = training.sample_form(session, merchant.id, "sale", consents)
    body = {"store": form["store"], "sku": form["sku"], "imei": form["imei"], "product": "EI-12", "term": 12,
            "name": form["name"], "id_number": form["id_number"], "phone": form["phone"],
            "bank_card": form["bank_card"],
            "profile": {k: form[k] for k in ("employment", "occupation", "housing", "bank_account", "savings",
                                             "assets", "monthly_income", "employment_years", "residence_years")},
            "consents": [{"kind": "credit_inquiry", "version": "credit-inquiry-2026.1"},
                         {"kind": "personal_info", "version": "personal-info-2026.1"}]}
    got = client.post("/api/v1/applications", json=body, headers=trainee)
    assert got.status_code == 201, got.text
    assert got.json()["application"]["status"] == "approved", got.json()
    app_id = int(got.json()["application"]["id"])
    signed = sign(client, app_id, trainee, contract(client, app_id, trainee)["sha256"], form["imei"])
    assert signed.status_code == 200, signed.text
    order_no = signed.json()["down_payment_order"]["out_trade_no"]
    pay_training_order(session, order_no)
    student = dict(body, imei=None, id_number=training.sample_form(session, merchant.id, "decline", {})["id_number"],
                   phone="13900000002", profile=dict(body["profile"], employment="student"))
    declined = client.post("/api/v1/applications", json=student, headers=trainee)
    assert declined.status_code == 422 and declined.json()["application"]["status"] == "declined", declined.text
    if with_return:
        _return(client, trainee, form["imei"], merchant.id)
    return {"loan_id": signed.json()["loan_id"], "order": order_no, "imei": form["imei"],
            "merchant_id": merchant.id}


def test_a_day_of_practice_leaves_the_real_books_and_every_report_untouched(
    client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    world: World = build_world(session, suffix="TRN")
    training_seed.seed(session)
    merchant = get_merchant_by_code(session, training_seed.MERCHANT[0])
    finance = auth_headers("finance")
    clerk = auth_headers("clerk", world.merchant_id)
    trainee = auth_headers("clerk", merchant.id)
    # A real sale first, so that the reports have something in them.
    real = approved(client, world, clerk)
    assert sign(client, real, clerk, contract(client, real, clerk)["sha256"], world.devices[0]).status_code == 200

    practice = session.begin_nested()
    done = practice_day(client, session, trainee, with_return=True)
    from fenqi.funding.service import get_funder
    from fenqi.ledger.models import JournalEntry
    from fenqi.risk.models import RiskDecision
    from fenqi.servicing.service import get_loan

    loan = get_loan(session, done["loan_id"])
    assert loan.training and loan.funder_id == get_funder(session, training_seed.FUNDER).id
    assert loan.status == "cancelled"  # returned: every step unwound in the training book
    order = find_order(session, done["order"])
    assert order is not None and order.training and order.status == "refunded" and order.refunded_fen > 0
    assert order.pay_url.endswith(f"/payments/orders/{order.out_trade_no}")  # our own page, no channel's cashier
    assert order.trade_no.startswith("TRAINING-")
    books = {e.book for e in session.scalars(select(JournalEntry).where(JournalEntry.loan_id == loan.id))}
    assert books == {"training"}
    decisions = session.scalars(select(RiskDecision).where(RiskDecision.merchant_id == merchant.id)).all()
    assert len(decisions) == 2 and all(d.training for d in decisions)
    assert get_device(session, done["imei"]).status != "sold"
    mine = next(c for c in training.checklist(session, merchant.id) if c.name == "测试 clerk")
    assert {"sale.paid", "decline.declined", "return.returned"} <= mine.done
    run_cob(session.connection(), TODAY)
    practice_books = check_books(session, book="training")
    assert practice_books.ok and practice_books.entries >= 3 and practice_books.loans == 1, practice_books.to_json()
    with_practice = reports(client, session, finance)
    practice.rollback()

    run_cob(session.connection(), TODAY)
    without = reports(client, session, finance)
    assert without["check"]["ok"] and without["check"]["loans"] == 1
    for key in without:
        assert with_practice[key] == without[key], key


def test_checklist_and_reset(client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]]
                             ) -> None:
    build_world(session, suffix="TRR")
    training_seed.seed(session)
    merchant = get_merchant_by_code(session, training_seed.MERCHANT[0])
    trainee = auth_headers("clerk", merchant.id)
    done = practice_day(client, session, trainee)
    progress = {c.name: c for c in training.checklist(session, merchant.id)}
    me = progress["测试 clerk"]
    assert me.done == {"sale.submitted", "sale.approved", "sale.signed", "sale.paid", "decline.declined"}
    assert me.completed == 2 and progress["陈学员"].done == frozenset()

    # An open practice application is cancelled by the reset, and every phone is back on the shelf.
    consents = {"consent_credit_inquiry": "credit-inquiry-2026.1", "consent_personal_info": "personal-info-2026.1"}
    form = training.sample_form(session, merchant.id, "sale", consents)
    assert form["imei"] != done["imei"]
    result = training.reset(session, merchant.id, actor_user_id=None)
    assert result.phones_restocked == 1 and get_device(session, done["imei"]).status == "in_stock"
    assert all(c.done == frozenset() for c in training.checklist(session, merchant.id))
    with pytest.raises(NotTrainingMerchant):  # a real merchant cannot be reset
        training.reset(session, get_merchant_by_code(session, "TM1TRR").id, actor_user_id=None)
