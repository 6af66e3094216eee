"""The shopper's side of coupons and share links: 我的优惠券 lists the shopper's coupons; a shopper who
came through a clerk's share link applies on the form with a coupon code, and the application is priced
with the coupon, shows it on the offer page and is credited to the clerk; a wrong code is refused on the
form in Chinese with the entries kept."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.identity.service import create_user
from fenqi.origination.models import Application
from fenqi.promotions import coupons, share_links
from fenqi.promotions.models import Attribution
from fenqi.promotions.schemas import CouponIssueIn, ShareLinkIn
from tests.origination.world import TODAY, World
from tests.web_shopper.conftest import sign_in
from tests.web_shopper.test_shopper_pages import submit

SHOPPER_PHONE = "13700137005"


def test_a_shopper_sees_their_coupons_and_applies_with_one_through_a_share_link(
    client: TestClient, session: Session, world: World
) -> None:
    sign_in(client, session, SHOPPER_PHONE)
    (coupon,) = coupons.issue(session, CouponIssueIn(
        batch="WEB", kind="interest_free", name_zh="新客免息券", name_en="Welcome", merchant_id=world.merchant_id,
        valid_from=TODAY, valid_to=TODAY + timedelta(days=10), product_codes=["EI-12"], phones=[SHOPPER_PHONE]))
    mine = client.get("/shop/coupons")
    assert mine.status_code == 200 and coupon.code in mine.text and "新客免息券" in mine.text
    assert "免息（不收利息和手续费）" in mine.text and "可使用" in mine.text

    clerk = create_user(session, role="clerk", display_name="链接店员", merchant_id=world.merchant_id)
    link = share_links.create(session, ShareLinkIn(sku=world.sku), merchant_id=world.merchant_id,
                              clerk_user_id=clerk.id)
    opened = client.get(f"/s/{link.token}", follow_redirects=False)
    assert opened.headers["location"] == f"/shop/phones/{world.sku}"

    wrong = submit(client, world, coupon="QNOPE", phone=SHOPPER_PHONE)
    assert wrong.status_code == 404 and "优惠券不存在或不属于您" in wrong.text and 'value="QNOPE"' in wrong.text
    made = submit(client, world, coupon=coupon.code, phone=SHOPPER_PHONE)
    assert made.status_code == 303, made.text[-600:]
    app = session.scalar(select(Application).order_by(Application.id.desc()).limit(1))
    assert app is not None and app.apr == 0 and app.status == "approved"
    credited = session.scalar(select(Attribution).where(Attribution.application_id == app.id))
    assert credited is not None
    offer = client.get(f"/shop/applications/{app.id}/offer")
    assert offer.status_code == 200 and f"免息券 {coupon.code}（签约时核销）" in offer.text
