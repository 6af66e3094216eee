"""The shopper's mobile pages (H5): catalog → plans → application → decision → contract and signing →
down payment at the channel's cashier → confirmation; "my loans" with bills, pay now and early payoff.

Public: the catalog and the plan chooser (no personal data). Everything else requires the shopper role.
"""

from __future__ import annotations

from fastapi import APIRouter

from fenqi.web.shopper.aftersales import router as aftersales_router
from fenqi.web.shopper.apply import router as apply_router
from fenqi.web.shopper.catalog import router as catalog_router
from fenqi.web.shopper.contract import router as contract_router
from fenqi.web.shopper.coupons import router as coupons_router
from fenqi.web.shopper.huabei_sale import router as huabei_sale_router
from fenqi.web.shopper.loans import router as loans_router
from fenqi.web.shopper.offer import router as offer_router
from fenqi.web.shopper.overdue import router as overdue_router

router = APIRouter(include_in_schema=False)
for _pages in (catalog_router, apply_router, offer_router, contract_router, loans_router, overdue_router,
               aftersales_router, coupons_router, huabei_sale_router):
    router.include_router(_pages)
