"""The till sells a scanned phone for its whole price with 花呗分期, over real HTTP against the live server and
Alipay's emulator: the till page offers the Huabei terms for the scanned phone, the form (sent twice) makes one
sale whose page shows the QR code of Alipay's cashier, the shopper pays, the clerk hands the phone over, and a
return refunds the whole price and puts the phone back on the shelf; a wrong term is refused in Chinese. The
shopper's mobile number typed at the till links the sale to the shopper's account: it shows in their "My loans"
once they sign in with that number, masked on the staff's pages; a number that is not one writes nothing."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.payments.payments_loopback import committed, settle_notifications, shopper_pays, wait_for
from tests.payments.test_huabei_whole_price import _sale, _shop

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def _clerk_browser(live_server: str, merchant_id: int) -> httpx.Client:
    from fenqi.identity.service import create_user
    from fenqi.identity.sessions import SESSION_COOKIE, start_session

    with committed() as s:
        user = create_user(s, role="clerk", display_name="花呗店员", merchant_id=merchant_id)
        token = start_session(s, user)
    client = httpx.Client(base_url=live_server, timeout=30, headers={"Accept-Language": "zh-CN"})
    client.cookies.set(SESSION_COOKIE, token)
    return client


def test_the_till_sells_hands_over_and_takes_back(live_server: str) -> None:
    from fenqi.catalog.service import get_device

    shop = _shop(devices=1, percent=100)
    imei = shop["imeis"][0]
    with _clerk_browser(live_server, shop["merchant"]) as till:
        page = till.get("/merchant/till", params={"imei": imei})
        assert page.status_code == 200, page.text
        assert 'id="till-huabei"' in page.text and "免息" in page.text  # the merchant pays the fee
        form = {"csrf_token": CSRF.search(page.text).group(1),  # type: ignore[union-attr]
                "nonce": NONCE.search(page.text).group(1), "imei": imei}  # type: ignore[union-attr]

        bad = till.post("/merchant/till/huabei", data={**form, "hb_fq_num": "9"})
        assert bad.status_code == 400 and "花呗分期只能选择 3 期、6 期或 12 期" in bad.text
        first = till.post("/merchant/till/huabei", data={**form, "hb_fq_num": "12"})
        again = till.post("/merchant/till/huabei", data={**form, "hb_fq_num": "12"})  # a double submit
        assert first.status_code == again.status_code == 303, re.findall(r"huabei-error\">([^<]+)", first.text)
        assert first.headers["location"] == again.headers["location"]
        sale_page = till.get(first.headers["location"])
        assert "待顾客付款" in sale_page.text and "<svg" in sale_page.text and "¥5,999.00" in sale_page.text
        sale_id = int(first.headers["location"].rsplit("/", 1)[1])
        cashier = re.search(r'href="([^"]+)" target="_blank" id="cashier-link"', sale_page.text)
        assert cashier is not None and cashier.group(1)
        shopper_pays(cashier.group(1).replace("&amp;", "&"))
        assert wait_for(lambda: till.get(f"/merchant/huabei/{sale_id}/status").json()["status"] == "paid")
        settle_notifications("alipay")

        csrf = CSRF.search(till.get(f"/merchant/huabei/{sale_id}").text).group(1)  # type: ignore[union-attr]
        assert till.post(f"/merchant/huabei/{sale_id}/handover", data={"csrf_token": csrf}).status_code == 303
        assert _sale(sale_id)[:2] == ("handed_over", "sold")
        shown = till.get(f"/merchant/huabei/{sale_id}").text
        assert "已交付" in shown and "退货退款" in shown
        # Days later, the sale is found again from the console's list of 花呗 sales, without its address.
        listed = till.get("/merchant/huabei").text
        assert f'href="/merchant/huabei/{sale_id}"' in listed and imei in listed and "已交付" in listed
        assert till.post(f"/merchant/huabei/{sale_id}/return", data={"csrf_token": csrf}).status_code == 303
    assert _sale(sale_id)[:2] == ("returned", "in_stock")
    with committed() as s:
        assert get_device(s, imei).sale_id is None


def _mobile() -> str:
    return f"139{uuid.uuid4().int % 10**8:08d}"


def _signed_in_by_code(live_server: str, phone: str) -> httpx.Client:
    """The shopper signs in on the shop with a code texted to the number, as a browser does."""
    from fenqi.identity.outbox import latest_notification, text_to_send

    client = httpx.Client(base_url=live_server, timeout=30, headers={"Accept-Language": "zh-CN"})
    token = CSRF.search(client.get("/login").text).group(1)  # type: ignore[union-attr]
    sent = client.post("/login/code", data={"agree": "1", "phone": phone, "csrf_token": token})
    assert sent.status_code == 303, sent.text
    with committed() as s:
        sms = latest_notification(s, to=phone, template="login_code")
        assert sms is not None
        code = re.search(r"\d{6}", text_to_send(sms)).group(0)  # type: ignore[union-attr]
    page = client.get(sent.headers["location"])
    ref = re.search(r'name="ref" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    done = client.post("/login/verify", data={"ref": ref, "code": code,
                                              "csrf_token": CSRF.search(page.text).group(1)})  # type: ignore[union-attr]
    assert done.status_code == 303, done.text
    return client


def test_a_till_sale_with_the_shoppers_number_shows_in_their_loans(live_server: str) -> None:
    shop = _shop(devices=1, percent=100)
    imei, phone = shop["imeis"][0], _mobile()
    masked = f"{phone[:3]}****{phone[-4:]}"
    with _clerk_browser(live_server, shop["merchant"]) as till:
        page = till.get("/merchant/till", params={"imei": imei})
        assert 'name="shopper_phone"' in page.text
        form = {"csrf_token": CSRF.search(page.text).group(1),  # type: ignore[union-attr]
                "nonce": NONCE.search(page.text).group(1), "imei": imei,  # type: ignore[union-attr]
                "hb_fq_num": "6", "shopper_phone": f" {phone[:3]} {phone[3:7]}-{phone[7:]} "}
        sold = till.post("/merchant/till/huabei", data=form)
        assert sold.status_code == 303, re.findall(r"huabei-error\">([^<]+)", sold.text)
        sale_id = int(sold.headers["location"].rsplit("/", 1)[1])
        sale_page = till.get(sold.headers["location"]).text
        assert masked in sale_page and phone not in sale_page  # staff see the number masked only
        cashier = re.search(r'href="([^"]+)" target="_blank" id="cashier-link"', sale_page)
        assert cashier is not None
        shopper_pays(cashier.group(1).replace("&amp;", "&"))
        assert wait_for(lambda: till.get(f"/merchant/huabei/{sale_id}/status").json()["status"] == "paid")
        listed = till.get("/merchant/huabei").text
        row = listed.split(f'id="huabei-sale-{sale_id}"', 1)[1].split("</tr>", 1)[0]
        assert masked in row and phone not in listed

    shopper, stranger = _signed_in_by_code(live_server, phone), _signed_in_by_code(live_server, _mobile())
    try:
        loans = shopper.get("/shop/loans")
        assert loans.status_code == 200, loans.text
        card = loans.text.split(f'id="huabei-{sale_id}"', 1)[1].split("</a>", 1)[0]
        assert imei in card and "整单数码 一店" in card and "已付款，请到门店取货" in card
        assert "7 天无理由退货至" in card  # the return's last day, once paid
        assert shopper.get(f"/shop/huabei/{sale_id}").status_code == 200
        theirs = stranger.get("/shop/loans")
        assert theirs.status_code == 200 and f"/shop/huabei/{sale_id}" not in theirs.text
        assert stranger.get(f"/shop/huabei/{sale_id}").status_code == 403
    finally:
        shopper.close()
        stranger.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_number_that_is_not_one_is_refused_and_nothing_written(live_server: str, lang: str) -> None:
    from sqlalchemy import func, select

    from fenqi.catalog.service import get_device
    from fenqi.identity.models import User
    from fenqi.origination.models import HuabeiSale

    shop = _shop(devices=1, percent=0)
    imei = shop["imeis"][0]
    refusal = "手机号码无效" if lang == "zh" else "Invalid mobile number"
    with committed() as s:
        users = s.scalar(select(func.count()).select_from(User))
    with _clerk_browser(live_server, shop["merchant"]) as till:
        page = till.get("/merchant/till", params={"imei": imei})
        form = {"csrf_token": CSRF.search(page.text).group(1),  # type: ignore[union-attr]
                "nonce": NONCE.search(page.text).group(1), "imei": imei, "hb_fq_num": "6"}  # type: ignore[union-attr]
        for bad in ("1390013800a", "1390013800", "139001380001", "139ABCD8000", "1390013800²",
                    "12345678901", "phone"):
            refused = till.post("/merchant/till/huabei", params={"lang": lang}, data={**form, "shopper_phone": bad})
            assert refused.status_code == 400 and refusal in refused.text, (bad, refused.text)
            assert "13900138000" not in refused.text
    with committed() as s:
        assert s.scalar(select(func.count()).select_from(HuabeiSale).where(
            HuabeiSale.merchant_id == shop["merchant"])) == 0
        assert s.scalar(select(func.count()).select_from(User)) == users + 1  # the clerk only
        assert get_device(s, imei).status == "in_stock"
