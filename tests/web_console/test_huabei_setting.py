"""The merchant owner decides who pays Alipay's 花呗分期 fee at the cashier (audited); clerks cannot."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.catalog.service import hb_seller_percent
from fenqi.identity.models import AuditEntry
from tests.origination.world import World
from tests.web_console.conftest import post_form


def test_the_owner_sets_who_pays_the_huabei_fee(sign_in, world: World, session: Session) -> None:  # type: ignore[no-untyped-def]
    owner = sign_in("merchant_owner", world.merchant_id)
    home = owner.get("/merchant").text
    assert "花呗分期手续费" in home and "3 期 2.30%" in home and "顾客承担" in home

    r = post_form(owner, "/merchant", "/merchant/huabei", {"hb_fq_seller_percent": "100"})
    assert r.status_code == 303 and r.headers["location"].endswith("#huabei")
    assert hb_seller_percent(session, world.merchant_id) == 100
    assert "商家承担（顾客免息）" in owner.get("/merchant").text
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "merchant.hb_fq_seller_percent",
                                                   AuditEntry.subject == f"merchant:{world.merchant_id}"))
    assert post_form(owner, "/merchant", "/merchant/huabei", {"hb_fq_seller_percent": "50"}).status_code == 400
    assert hb_seller_percent(session, world.merchant_id) == 100

    clerk = sign_in("clerk", world.merchant_id)
    assert post_form(clerk, "/merchant", "/merchant/huabei", {"hb_fq_seller_percent": "0"}).status_code == 403
    assert hb_seller_percent(session, world.merchant_id) == 100
