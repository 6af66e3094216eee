"""The plan chooser made personal through the real app: a stated income recommends a plan and says why
("为您推荐 12 期：月供占收入 18%"), a signed-in shopper's latest approval bounds it by the limit, and every
plan of the menu is still listed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.origination.models import Application
from tests.origination.world import World
from tests.web_shopper.conftest import sign_in

CARD = re.compile(r'<div class="card plan[^"]*" data-product="([^"]+)" data-term="(\d+)"')
HEADLINE = re.compile(r"为您推荐 (\d+) 期：月供占收入 (\d+)%")


def cards(html: str) -> list[tuple[str, int]]:
    return sorted((p, int(t)) for p, t in CARD.findall(html))


def test_income_recommends_a_plan_within_the_share_and_hides_none(client: TestClient, world: World) -> None:
    url = f"/shop/phones/{world.sku}"
    plain = client.get(url, params={"lang": "zh"})
    assert plain.status_code == 200 and 'id="advice"' not in plain.text
    page = client.get(url, params={"income": "5000", "lang": "zh"})
    assert cards(page.text) == cards(plain.text) and len(cards(page.text)) > 4
    found = HEADLINE.search(page.text)
    assert found and int(found.group(2)) <= 30, page.text[:3000]
    term = found.group(1)
    badge = re.search(r'data-term="(\d+)" id="plan-[^"]+"[^>]*>\s*<div class="muted">[^<]*</div>\s*'
                      r'<div class="ok badge">为您推荐</div>', page.text)
    assert badge and badge.group(1) == term
    assert "月供占收入" in page.text and "超出建议" in page.text  # 3-month plans are above 30% of ¥5,000
    english = client.get(url, params={"income": "5000", "lang": "en"})
    assert f"Recommended for you: {term} months, the installment is {found.group(2)}% of your income" in english.text
    # Too small an income: no plan recommended, all still there; a bad income is said in Chinese.
    poor = client.get(url, params={"income": "300", "lang": "zh"})
    assert "没有符合条件（月供不超过收入的 30%）的方案" in poor.text and cards(poor.text) == cards(plain.text)
    bad = client.get(url, params={"income": "-5", "lang": "zh"})
    assert bad.status_code == 200 and "月收入须为大于 0 的金额" in bad.text


def test_a_signed_in_shoppers_approval_bounds_the_recommendation(
    client: TestClient, session: Session, world: World,
) -> None:
    from fenqi.catalog.service import get_store_by_code

    user = sign_in(client, session, "13700137009")
    store = get_store_by_code(session, world.store)
    # Approved earlier with a limit of ¥3,000 and a stated income of ¥20,000 (only what the page reads).
    session.add(Application(
        status="approved", channel="online", merchant_id=world.merchant_id, store_id=store.id, region="310104",
        shopper_user_id=user, business_date=datetime(2026, 1, 5).date(), name_enc="x", id_number_enc="x",
        id_hash="pp-1", phone_enc="x", phone_hash="pp-1", bank_card_enc="x", age=30,
        profile={"monthly_income_fen": 2_000_000}, sku_code=world.sku, price_fen=599_900, product_code="EI-12",
        method="equal-installment", term=12, down_payment_fen=100_000, financed_fen=499_900, installment_fen=1,
        apr=Decimal("0.12"), outcome="approve", grade="C", credit_limit_fen=300_000, allowed_plans=[],
        created_at=datetime(2026, 1, 5, tzinfo=UTC)))
    session.flush()
    page = client.get(f"/shop/phones/{world.sku}", params={"lang": "zh"})
    # ¥5,999 with the least down payment finances more than ¥3,000: nothing fits until the down payment grows.
    assert "没有符合条件（月供不超过收入的 30%，在您的额度 ¥3,000.00 内）的方案" in page.text
    bigger = client.get(f"/shop/phones/{world.sku}", params={"lang": "zh", "down_payment": "3000"})
    found = HEADLINE.search(bigger.text)
    assert found and "在您的额度 ¥3,000.00 内" in bigger.text
