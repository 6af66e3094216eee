"""An installment past its due date reads 逾期 N 天 (not 已到期), counted like the loan's dpd; the loan
shows its bucket — on the operations console and on the shopper's page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.collections.status import days_overdue, installment_label
from fenqi.identity.service import shopper_for_phone
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from fenqi.servicing.service import get_loan
from tests.collections.support import FIRST_DUE, close_through, sold
from tests.origination.world import World


def test_labels_count_days_from_the_last_closed_date() -> None:
    due = date(2026, 12, 28)
    assert installment_label("due", due, due - timedelta(days=1), "zh") == "到期未还"  # due today, not closed
    assert installment_label("due", due, due, "zh") == "逾期 1 天"  # unpaid at the close of its due date
    assert installment_label("due", due, due + timedelta(days=94), "zh") == "逾期 95 天"
    assert installment_label("due", due, due + timedelta(days=1), "en") == "2 days overdue"
    assert installment_label("pending", due, due - timedelta(days=3), "zh") == "未到期"
    assert installment_label("paid", due, due + timedelta(days=9), "zh") == "已还清"
    assert days_overdue("paid", due, due + timedelta(days=9)) == 0


def test_overdue_rows_and_bucket_on_console_and_shopper_pages(
    sign_in: Callable[..., TestClient], world: World, session: Session
) -> None:
    app = sold(session, world)
    close_through(session, FIRST_DUE + timedelta(days=5))
    loan = get_loan(session, app.loan_id)
    assert (loan.status, loan.dpd, loan.bucket) == ("overdue", 6, "M1")

    ops = sign_in("collector").get(f"/ops/loans/{app.loan_id}").text
    assert "逾期 6 天" in ops and "已到期" not in ops
    assert "M1（逾期1–30天）" in ops
    assert "未到期" in ops  # the later installments

    client = sign_in("collector")
    client.cookies.clear()
    shopper = shopper_for_phone(session, "13812345678")  # the till sale may have made the account
    app.shopper_user_id = shopper.id  # the shopper who bought it at the till, now signed in on the phone
    session.flush()
    client.cookies.set(SESSION_COOKIE, start_session(session, shopper))
    page = client.get(f"/shop/loans/{app.loan_id}").text
    assert "逾期 6 天" in page and "已到期" not in page
    assert "M1（逾期1–30天）" in page
