"""The staff consoles: the merchant console (/merchant: clerks and owners, scoped to their merchant) and
the operations console (/ops: risk, collections, finance, administration), with their static assets."""

from __future__ import annotations

from fastapi import APIRouter

from fenqi.web.console.aftersales import router as aftersales_router
from fenqi.web.console.analytics import router as analytics_router
from fenqi.web.console.assets import router as assets_router
from fenqi.web.console.cases import router as cases_router
from fenqi.web.console.experiments import router as experiments_router
from fenqi.web.console.hardship import router as hardship_router
from fenqi.web.console.identity import router as identity_router
from fenqi.web.console.loans import router as loans_router
from fenqi.web.console.merchant import router as merchant_router
from fenqi.web.console.messages import router as messages_router
from fenqi.web.console.ops import router as ops_router
from fenqi.web.console.partners import router as partners_router
from fenqi.web.console.pilots import router as pilots_router
from fenqi.web.console.promotions import links as share_links_router
from fenqi.web.console.promotions import ops_coupons as coupons_router
from fenqi.web.console.promotions import router as campaigns_router
from fenqi.web.console.refunds import router as refunds_router
from fenqi.web.console.risk import router as risk_router
from fenqi.web.console.till import router as till_router
from fenqi.web.console.till_huabei import router as till_huabei_router
from fenqi.web.console.training import router as training_router

router = APIRouter(include_in_schema=False)
router.include_router(assets_router)
router.include_router(identity_router)
router.include_router(campaigns_router)
router.include_router(share_links_router)
router.include_router(coupons_router)
router.include_router(risk_router)
router.include_router(merchant_router)
router.include_router(till_router)
router.include_router(till_huabei_router)
router.include_router(training_router)
router.include_router(ops_router)
router.include_router(loans_router)
router.include_router(messages_router)
router.include_router(aftersales_router)
router.include_router(refunds_router)
router.include_router(hardship_router)
router.include_router(cases_router)
router.include_router(analytics_router)
router.include_router(experiments_router)
router.include_router(partners_router)
router.include_router(pilots_router)
