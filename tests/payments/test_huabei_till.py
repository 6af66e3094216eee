"""The till sells a scanned phone for its whole price with 花呗分期, over real HTTP against the live server and
Alipay's emulator: the till page offers the Huabei terms for the scanned phone, the form (sent twice) makes one
sale whose page shows the QR code of Alipay's cashier, the shopper pays, the clerk hands the phone over, and a
return refunds the whole price and puts the phone back on the shelf; a wrong term is refused in Chinese."""

from __future__ import annotations

import re

import httpx

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
