"""The shopper's pages through the real app (HTTP): public catalog and plans, the application form
checked on the server, each decision, offer and signing, the confirmation, "my loans" with pay now and
early payoff; personal data masked; someone else's application and loan refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.origination.models import Application
from fenqi.payments.service import find_order, loan_orders, mark_paid
from fenqi.pricing.menu import PlanOption
from fenqi.pricing.service import menu_for_price
from tests.origination.world import World, clean_id_number, id_number
from tests.web_shopper.conftest import csrf_of, sign_in

PAGE = {"Accept": "text/html"}
ID_NUMBER = clean_id_number(date(1990, 3, 7))
PHONE, CARD = "13812345678", "6222021234567890128"


def form(world: World, **overrides: str) -> dict[str, str]:
    """The application form as a browser posts it (an applicant the engine approves)."""
    data = {
        "sku": world.sku, "product": "EI-12", "term": "12", "down_payment": "1000.00", "name": "张三丰",
        "id_number": ID_NUMBER, "phone": PHONE, "bank_card": CARD, "store": world.store,
        "employment": "employed", "occupation": "skilled", "employment_years": "5", "monthly_income": "12000.00",
        "housing": "own", "residence_years": "6", "bank_account": "salary", "savings": "20k_50k",
        "assets": "real_estate", "existing_loans": "0",
        "consent_credit_inquiry": "credit-inquiry-2026.1", "consent_personal_info": "personal-info-2026.1",
    }
    data.update(overrides)
    return data


def apply_url(world: World) -> str:
    return f"/shop/apply?sku={world.sku}&product=EI-12&term=12&down_payment=1000.00"


def submit(client: TestClient, world: World, **overrides: str) -> Any:
    token = csrf_of(client.get(apply_url(world)).text)
    return client.post("/shop/apply", data={**form(world, **overrides), "csrf_token": token}, follow_redirects=False)


def applications(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Application)) or 0


def text_of(html: str) -> str:
    html = re.sub(r"<(style|script)>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def assert_masked(html: str) -> None:
    """No full ID number, mobile number or bank card number on a page after the form."""
    for secret in (ID_NUMBER, PHONE, CARD, "张三丰"):
        assert secret not in html, f"{secret} shown in full"


# --- public pages --------------------------------------------------------------------------------------


def test_catalog_is_public_with_price_and_lowest_monthly(client: TestClient, world: World, session: Session) -> None:
    page = client.get("/shop")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "iPhone 16" in text and "¥5,999.00" in text
    menu = menu_for_price(session, Decimal("5999.00"))
    lowest = min(max(i.total for i in o.quote.installments) for o in menu)
    # "低至" states the plan it assumes: its term, down payment and APR (a plan of the menu with that monthly).
    assumed = re.search(rf"低至 ¥{lowest:,.2f}/月 按 (\d+) 期、(0 首付|首付 ¥[\d,.]+)计，年化 ([\d.]+)%", text)
    assert assumed, text
    term, down = int(assumed.group(1)), assumed.group(2)

    def says(o: PlanOption) -> bool:
        q = o.quote
        paid_down = "0 首付" if q.request.down_payment == 0 else f"首付 ¥{q.request.down_payment:,.2f}"
        return (q.request.term, max(i.total for i in q.installments), paid_down, f"{q.apr * 100:.2f}") == (
            term, lowest, down, assumed.group(3))

    assert any(says(o) for o in menu)
    assert 'href="/shop/phones/' + world.sku + '"' in page.text
    english = text_of(client.get("/shop?lang=en").text)
    assert f"from ¥{lowest:,.2f}/month {term} months, " in english and "低至" not in english


def test_plan_chooser_shows_every_plan_with_apr_first_and_the_schedule(client: TestClient, world: World,
                                                                       session: Session) -> None:
    page = client.get(f"/shop/phones/{world.sku}")
    assert page.status_code == 200
    options = menu_for_price(session, Decimal("5999.00"))
    cards = re.findall(r'<div class="card plan[^"]*" data-product="([^"]+)" data-term="(\d+)"[^>]*>(.*?)选择此方案',
                       page.text, flags=re.S)
    assert {(p, int(t)) for p, t, _ in cards} == {(o.product.code, o.quote.request.term) for o in options}
    # Within a term, the least really paid first: down payment + every installment (interest and fees in).
    paid = {(o.product.code, o.quote.request.term): o.quote.request.down_payment
            + sum(i.principal + i.interest + i.fee for i in o.quote.installments) for o in options}
    options.sort(key=lambda o: (o.quote.request.term, paid[(o.product.code, o.quote.request.term)], o.quote.apr))
    least = {t: min(v for (_, u), v in paid.items() if u == t) for _, t in paid}
    for (product, term, body), option in zip(cards, options, strict=True):
        assert (product, int(term)) == (option.product.code, option.quote.request.term)
        total = paid[(product, int(term))]
        assert f"实付总额</span><strong>¥{total:,.2f}<" in body
        if total == least[int(term)]:
            assert "本期数最省" in body
        else:
            assert f"比最省方案多付 ¥{total - least[int(term)]:,.2f}" in body
        apr = f"{option.quote.apr * 100:.2f}%"
        # The APR is the first and biggest figure of each plan; the whole schedule is there on demand.
        assert body.index("年化利率") < body.index("首付") and 'class="apr"' in body and apr in body
        assert f"¥{option.quote.total_cost:,.2f}" in body
        assert body.count("<tr>") == option.quote.request.term + 1
    assert client.get("/shop/phones/NOPE").status_code == 404


# --- signing in and the form ---------------------------------------------------------------------------


def test_the_form_needs_a_signed_in_shopper(client: TestClient, world: World,
                                            auth_headers: Callable[..., dict[str, str]]) -> None:
    browser = client.get(apply_url(world), headers=PAGE)
    assert browser.status_code == 401 and "手机号登录" in browser.text
    assert 'name="next" value="/shop/apply?sku=' in browser.text  # back to the form after signing in
    assert client.get(apply_url(world)).headers["content-type"].startswith("text/html")  # a page, never JSON
    assert client.get(apply_url(world), headers=auth_headers("clerk", world.merchant_id)).status_code == 403


def test_signing_in_from_the_form_comes_back_to_the_same_plan(client: TestClient, world: World,
                                                                 session: Session) -> None:
    login = client.get(apply_url(world), headers=PAGE)
    sent = client.post("/login/code", follow_redirects=False, data={
        "agree": "1", "phone": "13700137005", "next": re.search(r'name="next" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
        .replace("&amp;", "&"), "csrf_token": csrf_of(login.text)})
    verify = client.get(sent.headers["location"])
    from fenqi.identity.outbox import latest_notification, text_to_send

    sms = latest_notification(session, to="13700137005", template="login_code")
    assert sms is not None
    signed_in = client.post("/login/verify", follow_redirects=False, data={
        "ref": re.search(r'name="ref" value="([^"]+)"', verify.text).group(1),  # type: ignore[union-attr]
        "code": re.search(r"\d{6}", text_to_send(sms)).group(0), "csrf_token": csrf_of(verify.text),  # type: ignore[union-attr]
        "next": re.search(r'name="next" value="([^"]+)"', verify.text).group(1).replace("&amp;", "&")})  # type: ignore[union-attr]
    assert signed_in.status_code == 303 and signed_in.headers["location"] == apply_url(world)
    assert "您选择的方案" in client.get(apply_url(world)).text


def test_a_shopper_signing_in_from_nowhere_lands_in_the_shop(client: TestClient, session: Session) -> None:
    login = client.get("/login")
    sent = client.post("/login/code", follow_redirects=False,
                       data={"agree": "1", "phone": "13700137006", "csrf_token": csrf_of(login.text)})
    verify = client.get(sent.headers["location"])
    from fenqi.identity.outbox import latest_notification, text_to_send

    sms = latest_notification(session, to="13700137006", template="login_code")
    assert sms is not None
    r = client.post("/login/verify", follow_redirects=False, data={
        "ref": re.search(r'name="ref" value="([^"]+)"', verify.text).group(1),  # type: ignore[union-attr]
        "code": re.search(r"\d{6}", text_to_send(sms)).group(0), "csrf_token": csrf_of(verify.text)})  # type: ignore[union-attr]
    assert r.status_code == 303 and r.headers["location"] == "/shop"


def test_every_form_field_has_a_label(shopper: TestClient, world: World) -> None:
    html = shopper.get(apply_url(world)).text
    fields = re.findall(r'<(?:input|select)\b(?![^>]*type="hidden")[^>]*\bid="([^"]+)"', html)
    assert len(fields) >= 17
    for field in fields:
        assert f'<label for="{field}"' in html, f"no label for #{field}"
    assert "credit-inquiry-2026.1" in html and "personal-info-2026.1" in html  # the consent texts' versions
    switch = re.search(r'<a href="([^"]+)" id="lang-switch">English</a>', html)
    assert switch, "no language switch"
    english = shopper.get(switch.group(1).replace("&amp;", "&"))  # the same form, plan kept, in English
    assert english.status_code == 200 and "Your plan" in english.text and 'lang="en"' in english.text


def test_server_checks_each_field_and_keeps_the_entries(shopper: TestClient, world: World,
                                                        session: Session) -> None:
    before = applications(session)
    minor = id_number(date(2010, 5, 1))
    bad = submit(shopper, world, name="张三丰", id_number=ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1"),
                 phone="12345", bank_card="6222021234567890127", monthly_income="abc",
                 consent_personal_info="")
    assert bad.status_code == 400
    errors = dict(re.findall(r'<div class="err" id="e-([\w]+)" aria-live="polite">([^<]*)</div>', bad.text))
    assert errors["id_number"] == "身份证号码无效：校验码错误"
    assert errors["phone"].startswith("请填写 11 位") and errors["bank_card"].startswith("银行卡号无效")
    assert errors["monthly_income"] and errors["consent_personal_info"] and not errors["consent_credit_inquiry"]
    assert not errors["name"] and not errors["store"]
    assert 'value="12345"' in bad.text and 'value="张三丰"' in bad.text  # what the shopper typed is kept
    assert 'name="consent_credit_inquiry" value="credit-inquiry-2026.1" checked' in bad.text
    young = submit(shopper, world, id_number=minor)
    assert young.status_code == 400 and "须年满 18 周岁" in young.text
    english = shopper.post("/shop/apply?lang=en", data={**form(world, bank_card="1234"),
                                                        "csrf_token": csrf_of(bad.text)})
    assert english.status_code == 400 and "Invalid bank card number" in english.text
    assert applications(session) == before  # nothing stored for a form with mistakes


# --- decisions -----------------------------------------------------------------------------------------


def test_declined_politely_with_reasons(shopper: TestClient, world: World, session: Session) -> None:
    done = submit(shopper, world, is_full_time_student="1")
    assert done.status_code == 303
    page = shopper.get(done.headers["location"])
    text = text_of(page.text)
    assert "很抱歉" in text and "学生" in text  # the reason, in the shopper's language
    assert_masked(page.text)
    app_id = int(done.headers["location"].rsplit("/", 1)[1])
    assert shopper.get(f"/shop/applications/{app_id}/offer").status_code == 409  # nothing to sign
    english = text_of(shopper.get(f"{done.headers['location']}?lang=en").text)
    assert "We are sorry" in english and "student" in english and "学生" not in english


# Lenders' words and codes a shopper should not have to decode.
JARGON = re.compile(r"bureau|inquir|risk (list|grade)|applicant|velocity|cutoff|review band|[a-z]+_[a-z]+|\bS\d\d\b",
                    re.I)


def test_every_decline_reason_is_said_in_plain_words(shopper: TestClient, world: World, session: Session) -> None:
    """Whatever the rules and the scorecard gave as reasons, the decision page says each in plain Chinese and in
    plain English: no codes, no lenders' words."""
    from fenqi.risk.reasons import FEATURE_REASONS, RULE_REASONS

    done = submit(shopper, world, is_full_time_student="1")
    app = session.get(Application, int(done.headers["location"].rsplit("/", 1)[1]))
    assert app is not None and app.status == "declined"
    codes = [*RULE_REASONS, *(code for code, _, _ in FEATURE_REASONS.values())]
    app.reasons = [{"code": c, "zh": RULE_REASONS.get(c, (c, c))[0], "en": RULE_REASONS.get(c, (c, c))[1]}
                   for c in codes] + [{"code": "new_rule_x", "zh": "new_rule_x", "en": "new_rule_x"}]
    session.flush()
    for lang, script in (("zh", r"[\u4e00-\u9fff]"), ("en", r"[A-Za-z]")):
        page = shopper.get(done.headers["location"], params={"lang": lang}).text
        said = [text_of(li) for li in re.findall(r"<li>(.*?)</li>", page.split('id="reasons"', 1)[1].split("</ul>")[0])]
        assert len(said) >= 20, said  # one sentence per matter: the income and the amount are each said once
        for sentence in said:
            assert re.search(script, sentence) and not JARGON.search(sentence), (lang, sentence)
            if lang == "en":
                assert not re.search(r"[\u4e00-\u9fff]", sentence), sentence
            else:
                assert not re.search(r"[A-Za-z]", sentence), sentence
    shopper.get(done.headers["location"], params={"lang": "zh"})


def test_referred_application_updates_after_the_review(
    shopper: TestClient, world: World, auth_headers: Callable[..., dict[str, str]]
) -> None:
    done = submit(shopper, world, monthly_income="1100.00")
    url = done.headers["location"]
    app_id = int(url.rsplit("/", 1)[1])
    review = shopper.get(url)
    assert "人工审核中" in review.text and f"/shop/applications/{app_id}/status" in review.text
    assert shopper.get(f"{url}/status").json() == {"status": "referred"}
    officer = auth_headers("risk_officer")
    decision = shopper.get(f"/api/v1/applications/{app_id}").json()["decision"]["id"]
    r = shopper.post(f"/api/v1/risk/reviews/{decision}", headers=officer,
                     json={"verdict": "approve", "note": "工资流水核实"})
    assert r.status_code == 200, r.text
    assert shopper.get(f"{url}/status").json() == {"status": "approved"}
    assert "审批已通过" in shopper.get(url).text


# --- the whole purchase ----------------------------------------------------------------------------------


def _sign(shopper: TestClient, app_id: int, channel: str = "alipay") -> Any:
    offer = shopper.get(f"/shop/applications/{app_id}/offer")
    assert offer.status_code == 200, offer.text
    sha = re.search(r'name="contract_sha256" value="([0-9a-f]{64})"', offer.text).group(1)  # type: ignore[union-attr]
    return offer, shopper.post(f"/shop/applications/{app_id}/sign", follow_redirects=False, data={
        "csrf_token": csrf_of(offer.text), "contract_sha256": sha, "consent_e_contract": "e-contract-2026.1",
        "channel": channel})


def test_approved_signed_paid_and_the_loan_under_my_loans(shopper: TestClient, world: World,
                                                          session: Session) -> None:
    done = submit(shopper, world)
    assert done.status_code == 303, done.text
    app_id = int(done.headers["location"].rsplit("/", 1)[1])
    decision = shopper.get(done.headers["location"])
    assert "审批已通过" in decision.text and f"/shop/applications/{app_id}/offer" in decision.text
    assert_masked(decision.text)

    offer, signed = _sign(shopper, app_id)
    text = text_of(offer.text)
    assert text.index("年化利率") < text.index("首付") < text.index("总费用")  # APR first
    assert f"/api/v1/applications/{app_id}/contract.pdf" in offer.text and "e-contract-2026.1" in offer.text
    assert shopper.get(f"/api/v1/applications/{app_id}/contract.pdf").content.startswith(b"%PDF")
    pages = re.findall(rf'src="(/shop/applications/{app_id}/contract/\d+\.png)\?', offer.text)
    assert pages, "the contract's pages are shown as pictures on phones"
    assert shopper.get(pages[0]).content.startswith(b"\x89PNG")
    assert shopper.get(f"/shop/applications/{app_id}/contract/99.png").status_code == 404
    assert_masked(offer.text)
    # Signed: off to the channel's cashier, which will send the shopper back to the confirmation page.
    assert signed.status_code == 303
    pay_url = signed.headers["location"]
    assert "/_emulator/alipay/gateway.do" in pay_url
    back = parse_qs(urlparse(pay_url).query)["return_url"][0]
    assert back.endswith(f"/shop/applications/{app_id}/done")

    app = session.get(Application, app_id)
    assert app is not None and app.status == "signed" and app.loan_id and app.payment_order
    waiting = shopper.get(f"/shop/applications/{app_id}/done")
    assert "等待首付支付结果" in waiting.text and "待支付" in waiting.text
    order = find_order(session, app.payment_order)
    assert order is not None
    mark_paid(session, order, trade_no="2026112822001", paid_at=None, amount_fen=order.amount_fen)
    page = shopper.get(f"/shop/applications/{app_id}/done")
    text = text_of(page.text)
    assert "首付已支付" in text and "已支付" in text and app.payment_order in text and "¥1,000.00" in text
    assert f"#{app.loan_id}" in text and app.device_imei and app.device_imei in text  # the loan and the phone
    assert_masked(page.text)

    loans = text_of(shopper.get("/shop/loans").text)
    assert "iPhone 16" in loans and "下一还款日 2026-12-28" in loans
    loan = shopper.get(f"/shop/loans/{app.loan_id}")
    text = text_of(loan.text)
    assert "下一还款日 2026-12-28" in text and "提前结清" in text and "首付 · 支付宝" in text
    assert_masked(loan.text)

    pay = shopper.post(f"/shop/loans/{app.loan_id}/pay", data={"csrf_token": csrf_of(loan.text),
                                                               "channel": "alipay"}, follow_redirects=False)
    assert pay.status_code == 303 and "/_emulator/alipay/" in pay.headers["location"]
    newest = loan_orders(session, app.loan_id)[0]
    assert newest.purpose == "installment" and newest.amount_fen == app.installment_fen
    mark_paid(session, newest, trade_no="2026112822002", paid_at=None, amount_fen=newest.amount_fen)
    after = text_of(shopper.get(f"/shop/loans/{app.loan_id}?back=1").text)
    assert "月供 ¥" in after and "已支付" in after and "预存余额" in after
    # The bill paid early shows as paid and the next bill moves on to the second month.
    assert "1 2026-12-28" in after and "已还（预存，到期抵扣）" in after.split("1 2026-12-28", 1)[1].split(" 2 ", 1)[0]
    second = f"本期应还（可提前还） ¥{Decimal(newest.amount_fen) / 100:,.2f}"
    assert "下一还款日 2027-01-28" in after and second in after
    assert "下一还款日 2027-01-28" in text_of(shopper.get("/shop/loans").text)

    quoted = shopper.get(f"/shop/loans/{app.loan_id}").text
    quote = re.search(r'id="payoff-total">¥([\d,.]+)<', quoted)
    assert quote
    # The saving: what the schedule left costs less the payoff (interest and fees not yet due).
    scheduled = re.search(r'id="payoff-scheduled">¥([\d,.]+)<', quoted)
    saved = re.search(r'现在结清可节省</span><strong>¥([\d,.]+)<', quoted)
    assert scheduled and saved, text_of(quoted)
    fen = [int(Decimal(m.group(1).replace(",", "")) * 100) for m in (scheduled, quote, saved)]
    assert fen[0] - fen[1] == fen[2] > 0 and "其中利息" in text_of(quoted)
    english = text_of(shopper.get(f"/shop/loans/{app.loan_id}?lang=en").text)
    assert f"Paying off now saves ¥{saved.group(1)}" in english and "Paid ahead (applied on the due date)" in english
    shopper.get(f"/shop/loans/{app.loan_id}?lang=zh")
    payoff = shopper.post(f"/shop/loans/{app.loan_id}/payoff", data={"csrf_token": csrf_of(loan.text),
                                                                     "channel": "alipay"}, follow_redirects=False)
    assert payoff.status_code == 303
    order = loan_orders(session, app.loan_id)[0]
    assert order.purpose == "payoff" and order.amount_fen == int(Decimal(quote.group(1).replace(",", "")) * 100)
    mark_paid(session, order, trade_no="2026112822003", paid_at=None, amount_fen=order.amount_fen)
    closed = text_of(shopper.get(f"/shop/loans/{app.loan_id}").text)
    assert "已结清" in closed and "提前结清 ¥" not in closed.replace("提前结清 · ", "")


def test_someone_elses_application_and_loan_are_refused(shopper: TestClient, world: World,
                                                         session: Session) -> None:
    app_id = int(submit(shopper, world).headers["location"].rsplit("/", 1)[1])
    _sign(shopper, app_id)
    loan_id = session.get(Application, app_id).loan_id  # type: ignore[union-attr]
    sign_in(shopper, session, "13700137002", "另一位顾客")
    for path in (f"/shop/applications/{app_id}", f"/shop/applications/{app_id}/offer",
                 f"/shop/applications/{app_id}/done", f"/shop/loans/{loan_id}"):
        assert shopper.get(path).status_code == 403, path
    assert "您还没有分期" in shopper.get("/shop/loans").text


def test_no_down_payment_goes_from_signing_straight_to_the_confirmation(shopper: TestClient, world: World,
                                                                        session: Session) -> None:
    token = csrf_of(shopper.get(f"/shop/apply?sku={world.sku}&product=FEE-060&term=6&down_payment=0.00").text)
    done = shopper.post("/shop/apply", follow_redirects=False, data={
        **form(world, product="FEE-060", term="6", down_payment="0.00"), "csrf_token": token})
    assert done.status_code == 303, done.text
    app_id = int(done.headers["location"].rsplit("/", 1)[1])
    _, signed = _sign(shopper, app_id, channel="wechatpay")
    assert signed.status_code == 303 and signed.headers["location"] == f"/shop/applications/{app_id}/done"
    page = text_of(shopper.get(signed.headers["location"]).text)
    app = session.get(Application, app_id)
    assert app is not None and app.payment_order is None and app.device_imei
    assert "分期已生效（零首付）" in page and app.device_imei in page and f"#{app.loan_id}" in page
