"""The shopper rates a purchase (0–10, the NPS question) from the loan page, once; a bad score is refused
with a clear message in the page's language."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.aftersales.models import Feedback
from tests.aftersales.test_pages import _login, _sold_online
from tests.web_shopper.conftest import csrf_of


def _ratings(session: Session, loan_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Feedback).where(
        Feedback.about == "purchase", Feedback.subject_id == loan_id)) or 0)


def test_shopper_rates_a_purchase_once_from_the_loan_page(client: TestClient, session: Session) -> None:
    _, app, who = _sold_online(session)
    _login(client, session, who.user_id)
    url = f"/shop/loans/{app.loan_id}"
    page = client.get(url)
    assert page.status_code == 200 and "为这次购买评分" in page.text and 'for="purchase-score"' in page.text
    token = csrf_of(page.text)
    for bad in ("11", "abc", "-1", ""):
        r = client.post(url + "/rate", data={"csrf_token": token, "score": bad})
        assert r.status_code == 400 and "请选择 0 到 10 分的评分" in r.text, (bad, r.text)
        assert "<html" in r.text.lower() and f'href="{url}"' in r.text
    en = client.post(url + "/rate", data={"csrf_token": token, "score": "abc"}, headers={"Accept-Language": "en"})
    assert en.status_code == 400 and "Choose a score from 0 to 10" in en.text
    assert _ratings(session, app.loan_id or 0) == 0
    no_csrf = client.post(url + "/rate", data={"score": "9"})
    assert no_csrf.status_code in (400, 403) and _ratings(session, app.loan_id or 0) == 0

    r = client.post(url + "/rate", data={"csrf_token": token, "score": "9", "comment": "店员很耐心"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    rated = client.get(r.headers["location"])
    assert 'id="purchase-rating"' in rated.text and "<strong>9</strong>" in rated.text and "店员很耐心" in rated.text
    assert 'id="rate-purchase-form"' not in rated.text
    again = client.post(url + "/rate", data={"csrf_token": csrf_of(rated.text), "score": "3"})
    assert again.status_code == 409 and "您已经评价过了" in again.text
    assert _ratings(session, app.loan_id or 0) == 1
    row = session.scalar(select(Feedback).where(Feedback.about == "purchase", Feedback.subject_id == app.loan_id))
    assert row is not None and (row.score, row.comment) == (9, "店员很耐心")

    english = client.get(url, headers={"Accept-Language": "en"})
    assert "Rate this purchase" in english.text and "Your rating" in english.text
    assert "为这次购买评分" not in english.text


def test_shopper_rates_a_completed_case_once_with_a_clear_error_for_a_bad_score(client: TestClient,
                                                                               session: Session) -> None:
    from fenqi.aftersales.service import open_case

    _, app, who = _sold_online(session)
    case = open_case(session, who, requested="repair", reason="fault", loan_id=app.loan_id)
    case.outcome, case.status = "repair", "completed"  # the desk's part is tested elsewhere
    session.flush()
    _login(client, session, who.user_id)
    url = f"/shop/aftersales/{case.id}"
    page = client.get(url)
    assert "评价本次服务" in page.text and 'for="score"' in page.text
    token = csrf_of(page.text)
    bad = client.post(url + "/rate", data={"csrf_token": token, "score": "abc"})
    assert bad.status_code == 400 and "请选择 0 到 10 分的评分" in bad.text
    en = client.post(url + "/rate", data={"csrf_token": token, "score": "11"}, headers={"Accept-Language": "en"})
    assert en.status_code == 400 and "Choose a score from 0 to 10" in en.text
    ok = client.post(url + "/rate", data={"csrf_token": token, "score": "7"}, follow_redirects=False)
    assert ok.status_code == 303
    rated = client.get(url)
    assert 'id="case-rating"' in rated.text and "<strong>7</strong>" in rated.text
    again = client.post(url + "/rate", data={"csrf_token": token, "score": "2"})
    assert again.status_code == 409 and "您已经评价过了" in again.text
