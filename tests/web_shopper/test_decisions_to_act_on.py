"""Decisions a shopper can act on: a decline says why once, in plain words, and offers a plan the rules
would approve (tried, not recorded); taking it applies again in one click and is approved; no offer when
nothing would pass. The customer-service number comes from the settings."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.kit.settings import get_settings
from fenqi.origination.models import Application
from fenqi.risk.models import RiskDecision
from tests.origination.world import World
from tests.web_shopper.conftest import csrf_of
from tests.web_shopper.test_shopper_pages import assert_masked, submit, text_of

# ¥5,999 on 12 months with ¥1,000 down is ¥444 a month: above half of a ¥700 income (a hard rule), while
# ¥3,600 down brings it within what the rules approve.
LOW_INCOME = "700.00"


def _decisions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RiskDecision)) or 0


def _app(session: Session, location: str) -> Application:
    app = session.get(Application, int(location.rsplit("/", 1)[1]))
    assert app is not None
    session.refresh(app)
    return app


def test_a_decline_says_why_and_the_suggestion_taken_is_approved(
    shopper: TestClient, world: World, session: Session
) -> None:
    done = submit(shopper, world, monthly_income=LOW_INCOME)
    declined = _app(session, done.headers["location"])
    assert declined.status == "declined"
    decisions = _decisions(session)
    page = shopper.get(done.headers["location"])
    text = text_of(page.text)
    assert "很抱歉" in text
    # The income reason is given once, though both a rule and the score raised it.
    assert text.count("每月还款额占您月收入的比例偏高") == 1
    assert 'id="suggestions"' in page.text and 'data-kind="down_payment"' in page.text
    assert "首付提高到 ¥3,600.00" in text and "年化利率" in text
    assert get_settings().service_phone in text
    assert_masked(page.text)
    assert _decisions(session) == decisions  # trying the plans recorded no decision
    key = re.search(r'name="suggestion" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    taken = shopper.post(f"/shop/applications/{declined.id}/suggestion", follow_redirects=False,
                         data={"suggestion": key, "csrf_token": csrf_of(page.text)})
    assert taken.status_code == 303, taken.text
    new = _app(session, taken.headers["location"])
    assert new.id != declined.id and new.status == "approved", new.reasons
    assert new.down_payment_fen == 360_000 and new.term == declined.term and new.id_hash == declined.id_hash
    assert new.shopper_user_id == declined.shopper_user_id and new.device_imei
    assert "审批已通过" in shopper.get(taken.headers["location"]).text
    # A second click on the same suggestion leads to the same application, not a second one.
    again = shopper.post(f"/shop/applications/{declined.id}/suggestion", follow_redirects=False,
                         data={"suggestion": key, "csrf_token": csrf_of(page.text)})
    assert again.status_code == 303 and again.headers["location"] == taken.headers["location"]
    english = text_of(shopper.get(f"{done.headers['location']}?lang=en").text)
    assert "The monthly payment is high compared with your income" in english


def test_no_suggestion_when_nothing_would_pass(shopper: TestClient, world: World, session: Session) -> None:
    done = submit(shopper, world, is_full_time_student="1")
    page = shopper.get(done.headers["location"])
    assert "很抱歉" in page.text and "学生" in page.text
    assert 'id="suggestions"' not in page.text and 'name="suggestion"' not in page.text
    before = session.scalar(select(func.count()).select_from(Application))
    app_id = int(done.headers["location"].rsplit("/", 1)[1])
    forged = shopper.post(f"/shop/applications/{app_id}/suggestion", headers={"Accept": "text/html"},
                          data={"suggestion": f"term|{world.sku}|EI-12|24|100000", "csrf_token": csrf_of(page.text)})
    assert forged.status_code == 409 and "text/html" in forged.headers["content-type"]
    assert "建议方案已不可用" in forged.text
    assert session.scalar(select(func.count()).select_from(Application)) == before


@pytest.fixture()
def hotline(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("FENQI_SERVICE_PHONE", "400-123-4567")
    get_settings.cache_clear()
    yield "400-123-4567"
    monkeypatch.delenv("FENQI_SERVICE_PHONE")
    get_settings.cache_clear()


def test_one_service_number_from_the_settings(hotline: str, client: TestClient) -> None:
    from fenqi.collections.reminders_templates import DEFAULT_BY_KIND
    from fenqi.origination.contract_pdf import complaint_channel

    assert f'href="tel:{hotline}"' in client.get("/shop").text
    assert hotline in complaint_channel()
    assert "${hotline}" in DEFAULT_BY_KIND["lock_warning"].zh and "${hotline}" in DEFAULT_BY_KIND["overdue_weekly"].zh
