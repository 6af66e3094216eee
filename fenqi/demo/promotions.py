"""The demo history's promotions, lived through promotions' own services like every other part of it.

- Coupons: some shoppers were sent one (减息券 on the interest-bearing plans, 免息券 on the fee plan) a few
  days before they came; most use it when they apply, and the signing redeems it and withholds its cost
  from the merchant's disbursement; the others keep an unused coupon.
- Campaigns: the first merchant's interest-free plan (merchant-paid) was sold in two campaigns: a finished
  one over the history's first third with a small budget, and one running from then until
  well after today; each sale's subsidy was taken from its campaign's budget at approval.
- Share links: each store's clerk shares a link per phone model; people open it (most never apply), and
  some of the history's sales arrive through it, attributed to that clerk and store.

Draws from its own `random.Random`, so the rest of the history (who buys what, who pays) is the same with
or without it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from fenqi.identity.principal import Principal
from fenqi.pricing.service import get_product
from fenqi.promotions import coupons, share_links
from fenqi.promotions.schemas import CampaignIn, CouponIssueIn, ShareLinkIn
from fenqi.promotions.service import create_campaign

COUPON_SHARE = 0.15  # shoppers sent a coupon before they came
COUPON_USED = 0.75  # of those, the ones who used it
LINK_SHARE = 0.20  # sales that arrived through a clerk's share link
IDLE_OPENINGS = (2, 9)  # a new link's openings by people who never applied (a range)
RATE_CUT = Decimal("0.05")
CAMPAIGN_PRODUCT = "IF-MERCHANT"
# (code, zh, en, budget in yuan): the first ends after a third of the history, the second runs until after today.
CAMPAIGNS = (("DEMO-SPRING-IF", "新春免息季", "New Year interest-free season", Decimal("2000")),
             ("DEMO-IF-ALWAYS", "商户贴息 长期免息", "Merchant-paid interest-free", Decimal("200000")))


class DemoPromotions:
    def __init__(self, session: Session, *, seed: int, clerks: dict[int, Principal]) -> None:
        self.session = session
        self.rng = random.Random(seed * 7919 + 16)
        self.clerks = clerks
        self.links: dict[tuple[int, str], str] = {}  # (store, phone model) → token
        self.coupons = 0

    def campaigns(self, start: date, today: date) -> None:
        """The first merchant's campaigns over the history (created before its first sale)."""
        merchant_id = min(self.clerks)
        middle = start + timedelta(days=max((today - start).days // 3, 1))
        periods = ((start, middle - timedelta(days=1)), (middle, today + timedelta(days=90)))
        for (code, zh, en, budget), (first, last) in zip(CAMPAIGNS, periods, strict=True):
            create_campaign(self.session, CampaignIn(code=code, name_zh=zh, name_en=en, product_code=CAMPAIGN_PRODUCT,
                                                     starts_on=first, ends_on=last, budget=budget),
                            merchant_id=merchant_id)

    def extras(self, today: date, *, merchant_id: int, store_id: int, sku_code: str, product: str, phone: str
               ) -> dict[str, str]:
        """The application's `share` and `coupon` fields for this sale (empty when neither)."""
        out: dict[str, str] = {}
        if self.rng.random() < LINK_SHARE:
            token = self._link(merchant_id, store_id, sku_code)
            share_links.visit(self.session, token)
            out["share"] = token
        if self.rng.random() < COUPON_SHARE:
            code = self._coupon(today, merchant_id, product, phone)
            if code is not None and self.rng.random() < COUPON_USED:
                out["coupon"] = code
        return out

    def _link(self, merchant_id: int, store_id: int, sku_code: str) -> str:
        key = (store_id, sku_code)
        if key not in self.links:
            clerk = self.clerks[merchant_id]
            link = share_links.create(self.session, ShareLinkIn(sku=sku_code, store_id=store_id),
                                      merchant_id=merchant_id, clerk_user_id=clerk.user_id)
            for _ in range(self.rng.randint(*IDLE_OPENINGS)):
                share_links.visit(self.session, link.token)
            self.links[key] = link.token
        return self.links[key]

    def _coupon(self, today: date, merchant_id: int, product_code: str, phone: str) -> str | None:
        product = get_product(self.session, product_code)
        if product.method == "interest-free" or product.annual_rate + product.fee_rate <= 0:
            return None  # nothing for a coupon to take off
        kind = "rate_cut" if product.annual_rate > 0 else "interest_free"
        zh, en = (("新客减息券 年化减 5%", "Welcome rate cut, 5% off the annual rate") if kind == "rate_cut"
                  else ("免息券", "Interest-free coupon"))
        sent = today - timedelta(days=self.rng.randint(1, 10))
        issued = coupons.issue(self.session, CouponIssueIn(
            batch=f"DEMO-{kind.upper().replace('_', '-')}-{sent:%Y%m}", kind=kind,
            rate_cut=RATE_CUT if kind == "rate_cut" else Decimal(0), name_zh=zh, name_en=en,
            merchant_id=merchant_id, valid_from=sent, valid_to=sent + timedelta(days=30),
            product_codes=[product.code], phones=[phone]))
        self.coupons += 1
        return issued[0].code
