"""The 花呗 whole-price sales are found again without their page's address: the merchant console lists the
merchant's own sales, newest first, each linking to its page (the 7-day return days later), and "My loans"
lists the signed-in shopper's own purchases with the pick-up store and the return's last day. Another
merchant's clerk and another shopper see none of them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.catalog.models import Store
from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from fenqi.origination.models import HuabeiSale
from tests.origination.world import World
from tests.web_console.test_chinese_pages import offenders, visible_text


def _sale(session: Session, world: World, store_code: str, *, status: str, at: datetime, imei: str,
          price_fen: int = 1_234_567, term: int = 6, shopper: int | None = None, paid_on: date | None = None,
          ) -> HuabeiSale:
    store = session.scalar(select(Store).where(Store.code == store_code))
    assert store is not None
    sale = HuabeiSale(status=status, channel="online" if shopper else "store", merchant_id=store.merchant_id,
                      store_id=store.id, shopper_user_id=shopper, sku_code=world.sku, imei=imei, price_fen=price_fen,
                      hb_fq_num=term, hb_fq_seller_percent=0, hb_fee_fen=0, out_trade_no=f"HBS{imei}",
                      business_date=at.date(), expires_at=at + timedelta(minutes=15), created_at=at, paid_on=paid_on,
                      paid_at=at if paid_on else None)
    session.add(sale)
    session.flush()
    return sale


def _signed_in(client: TestClient, session: Session, role: str, merchant_id: int | None = None,
               phone: str | None = None) -> TestClient:
    user = create_user(session, role=role, display_name="花呗列表", merchant_id=merchant_id, phone=phone)
    client.cookies.set(SESSION_COOKIE, start_session(session, user))
    return client


def test_the_console_lists_the_merchants_own_huabei_sales_newest_first(
    world: World, session: Session, client: TestClient
) -> None:
    older = _sale(session, world, world.store, status="handed_over", imei="356938035643809", term=12,
                  at=datetime(2026, 3, 31, 8, 5, tzinfo=UTC), paid_on=date(2026, 3, 31))
    newer = _sale(session, world, world.store, status="pending", imei="490154203237518", price_fen=599_900,
                  at=datetime(2026, 4, 1, 17, 30, tzinfo=UTC))
    theirs = _sale(session, world, world.other_store, status="paid", imei="353918056124310",
                   at=datetime(2026, 4, 2, 1, 0, tzinfo=UTC), paid_on=date(2026, 4, 2))

    clerk = _signed_in(client, session, "clerk", world.merchant_id)
    page = clerk.get("/merchant/huabei", params={"lang": "zh"})
    assert page.status_code == 200, page.text
    text = visible_text(page.text)
    links = re.findall(r'href="/merchant/huabei/(\d+)"', page.text)
    assert links == [str(newer.id), str(older.id)]  # newest first; the other merchant's sale is not there
    assert theirs.imei not in page.text and str(theirs.id) not in links
    row = visible_text(page.text.split(f'id="huabei-sale-{older.id}"', 1)[1].split("</tr>", 1)[0])
    assert "356938035643809" in row and "¥12,345.67" in row and "12 期" in row and "已交付" in row
    assert "2026-03-31 16:05" in row  # Beijing time, not 08:05 UTC
    assert "iPhone" in row and "128GB" in row  # the phone by its name
    assert "待顾客付款" in text and "¥5,999.00" in text and "2026-04-02 01:30" in text
    assert offenders(page.text) == []
    assert 'href="/merchant/huabei" id="nav-huabei"' in clerk.get("/merchant/till").text  # beside the till's link
    assert clerk.get(f"/merchant/huabei/{older.id}").status_code == 200  # the link leads to the sale's page

    english = clerk.get("/merchant/huabei", params={"lang": "en"}).text
    assert "Huabei sales" in english and "Handed over" in english and "12 months" in english

    other_clerk = _signed_in(client, session, "clerk", world.other_merchant_id)
    seen = other_clerk.get("/merchant/huabei", params={"lang": "zh"})
    assert seen.status_code == 200
    assert re.findall(r'href="/merchant/huabei/(\d+)"', seen.text) == [str(theirs.id)]
    assert older.imei not in seen.text and newer.imei not in seen.text
    assert other_clerk.get(f"/merchant/huabei/{older.id}").status_code == 403

    owner = _signed_in(client, session, "merchant_owner", world.merchant_id)
    assert re.findall(r'href="/merchant/huabei/(\d+)"', owner.get("/merchant/huabei").text) == [
        str(newer.id), str(older.id)]
    assert _signed_in(client, session, "shopper", phone="13700001111").get(
        "/merchant/huabei", follow_redirects=False).status_code in (302, 303, 403)


def test_my_loans_lists_the_shoppers_own_huabei_purchases(
    world: World, session: Session, client: TestClient
) -> None:
    buyer = create_user(session, role="shopper", display_name="买家", phone="13700002222")
    stranger = create_user(session, role="shopper", display_name="路人", phone="13700003333")
    bought = _sale(session, world, world.store, status="paid", imei="356938035643809", shopper=buyer.id,
                   at=datetime(2026, 3, 31, 8, 5, tzinfo=UTC), paid_on=date(2026, 3, 31))
    lapsed = _sale(session, world, world.store, status="expired", imei="490154203237518", shopper=buyer.id,
                   term=3, at=datetime(2026, 3, 30, 8, 5, tzinfo=UTC))

    client.cookies.set(SESSION_COOKIE, start_session(session, buyer))
    page = client.get("/shop/loans", params={"lang": "zh"})
    assert page.status_code == 200, page.text
    assert "花呗分期购机" in page.text
    assert re.findall(r'href="/shop/huabei/(\d+)"', page.text) == [str(bought.id), str(lapsed.id)]
    card = visible_text(page.text.split(f'id="huabei-{bought.id}"', 1)[1].split("</a>", 1)[0])
    assert "¥12,345.67" in card and "6 期" in card and "已付款，请到门店取货" in card
    assert "上海 · 测试数码 一店" in card and "2026-04-07" in card  # the pick-up store; paid + 7 days
    gone = visible_text(page.text.split(f'id="huabei-{lapsed.id}"', 1)[1].split("</a>", 1)[0])
    assert "3 期" in gone and "订单已超时关闭" in gone and "退货" not in gone  # no return date for an unpaid one
    assert offenders(page.text) == []
    assert "Bought with Huabei" in client.get("/shop/loans", params={"lang": "en"}).text

    client.cookies.set(SESSION_COOKIE, start_session(session, stranger))
    theirs = client.get("/shop/loans", params={"lang": "zh"})
    assert theirs.status_code == 200
    assert "花呗分期购机" not in theirs.text and "/shop/huabei/" not in theirs.text
