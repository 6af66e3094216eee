"""The funnel by share link, by the clerk a link attributes a sale to, and by campaign (the known March
2026 applications of tests/analytics/book.py); and a share link end to end: a clerk makes it, a shopper
opens it and applies, the application is attributed and counted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.analytics import funnel as fn
from fenqi.identity.service import create_api_key, create_user
from fenqi.promotions.models import Attribution, Campaign, CampaignSpend, ShareLink
from tests.analytics.book import build
from tests.origination.world import TODAY, World, build_world, clean_id_number

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
STEPS = ("viewed", "applied", "decided", "signed", "paid", "handed_over")


def counts(row: fn.FunnelRow) -> tuple[int | None, ...]:
    return tuple(row.counts[s] for s in STEPS)


def test_funnel_by_share_link_referring_clerk_and_campaign(session: Session) -> None:
    book = build(session)
    link = ShareLink(token="LINKA1", merchant_id=book.merchant_id, store_id=book.s1, clerk_user_id=book.c1,
                     sku_code="AN-SKU", visits=9)
    other = ShareLink(token="LINKB2", merchant_id=book.merchant_id, store_id=book.s2, clerk_user_id=book.c2,
                      sku_code="AN-SKU", visits=1)
    session.add_all([link, other])
    session.flush()
    # A5 (referred) and A6 (approved, unsigned) came online through 甲's link; A4 (signed) through 乙's.
    session.add_all([Attribution(application_id=book.apps[5], share_link_id=link.id),
                     Attribution(application_id=book.apps[6], share_link_id=link.id),
                     Attribution(application_id=book.apps[4], share_link_id=other.id)])
    campaign = Campaign(code="MAR-IF", name_zh="三月免息", name_en="March interest-free", merchant_id=book.merchant_id,
                        product_code="IF-MERCHANT", starts_on=MARCH[0], ends_on=MARCH[1], budget_fen=100_000,
                        spent_fen=12_000, sales=1)
    session.add(campaign)
    session.flush()
    session.add_all([CampaignSpend(campaign_id=campaign.id, application_id=book.apps[4], subsidy_fen=12_000,
                                   status="used"),
                     CampaignSpend(campaign_id=campaign.id, application_id=book.apps[3], subsidy_fen=5_000,
                                   status="released")])
    session.flush()

    by = {r.key: r for r in fn.funnel(session, start=MARCH[0], end=MARCH[1], dimension="share_link").rows}
    assert counts(by["LINKA1"]) == (None, 2, 1, 0, 0, 0) and by["LINKA1"].zh == "LINKA1（店员甲）"
    assert counts(by["LINKB2"]) == (None, 1, 1, 1, 0, 0)
    assert counts(by[""]) == (None, 3, 3, 2, 2, 2) and by[""].zh == "未经分享链接"

    by = {r.key: r for r in fn.funnel(session, start=MARCH[0], end=MARCH[1], dimension="referrer").rows}
    assert counts(by[str(book.c1)]) == (None, 2, 1, 0, 0, 0) and by[str(book.c1)].en == "店员甲"
    assert counts(by[str(book.c2)])[:4] == (None, 1, 1, 1) and by["0"].en == "Not through a share link"

    by = {r.key: r for r in fn.funnel(session, start=MARCH[0], end=MARCH[1], dimension="campaign").rows}
    # A3's reservation was given back (declined): only A4 counts for the campaign.
    assert counts(by["MAR-IF"]) == (None, 1, 1, 1, 0, 0) and by["MAR-IF"].zh == "三月免息"
    assert counts(by[""])[1] == 5 and by[""].zh == "未参加活动"


def test_a_clerk_shares_a_link_and_the_application_through_it_is_attributed(
    client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    world: World = build_world(session, "SL")
    clerk_user = create_user(session, role="clerk", display_name="分享店员", merchant_id=world.merchant_id)
    _, key = create_api_key(session, clerk_user, name="t")
    clerk = {"Authorization": f"Bearer {key}"}
    made = client.post("/api/v1/share-links", json={"sku": world.sku, "product": "EI-12", "term": 12}, headers=clerk)
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert made.json()["url"].endswith(f"/s/{token}") and made.json()["clerk_user_id"] == clerk_user.id
    bad = client.post("/api/v1/share-links", json={"sku": world.sku, "product": "EI-12"}, headers=clerk)
    assert bad.status_code == 400 and "产品和期数须同时指定" in bad.json()["message"]
    assert client.post("/api/v1/share-links", json={"sku": world.sku}, headers=auth_headers("shopper")
                       ).status_code == 403

    opened = client.get(f"/s/{token}", follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"].startswith("/shop/apply?sku=")
    assert client.cookies.get("fenqi_share") == token
    unknown = client.get("/s/nope", headers={"Accept": "text/html"}, follow_redirects=False)
    assert unknown.status_code == 404 and "分享链接无效或已失效" in unknown.text

    body = world.body(id_number=clean_id_number(date(1984, 5, 5)), share=token)
    applied = client.post("/api/v1/applications", json=body, headers=auth_headers("clerk", world.merchant_id))
    assert applied.status_code == 201, applied.text
    mine = client.get("/api/v1/share-links", headers=clerk).json()["items"]
    assert [(x["token"], x["visits"], x["applications"]) for x in mine] == [(token, 1, 1)]
    # Another merchant's link attributes nothing (and never stops the application).
    elsewhere = world.body(id_number=clean_id_number(date(1984, 6, 6)), share=token, store=world.other_store,
                           down_payment="1000.00")
    client.post("/api/v1/applications", json=elsewhere, headers=auth_headers("clerk", world.other_merchant_id))
    by = {r.key: r for r in fn.funnel(session, start=TODAY, end=TODAY, dimension="share_link").rows}
    assert by[token].counts["applied"] == 1 and by[token].zh == f"{token}（分享店员）"


def test_a_clerk_makes_a_share_link_on_the_console_page(
    client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]]
) -> None:
    world: World = build_world(session, "SP")
    clerk = {**auth_headers("clerk", world.merchant_id), "Accept": "text/html"}
    page = client.get("/merchant/share-links", headers=clerk)
    assert page.status_code == 200 and "还没有分享链接" in page.text
    made = client.post("/merchant/share-links", data={"sku": world.sku, "plan": "EI-12:12"}, headers=clerk,
                       follow_redirects=False)
    assert made.status_code == 303, made.text
    page = client.get("/merchant/share-links", headers=clerk)
    assert "/s/" in page.text and "12 期" in page.text and "Apple iPhone 16" in page.text
    wrong = client.post("/merchant/share-links", data={"sku": world.sku, "plan": "EI-12:7"}, headers=clerk)
    assert wrong.status_code == 400 and "期数 7 不在产品" in wrong.text
    other = {**auth_headers("clerk", world.other_merchant_id), "Accept": "text/html"}
    assert "/s/" not in client.get("/merchant/share-links", headers=other).text.split('id="share-links"')[1]
