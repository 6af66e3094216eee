"""Campaigns and their budgets — the port origination uses when a sale takes a campaign's plan.

A product that has campaigns is sold only inside one: the application's phone, store, term and date
must fit an active campaign, and the merchant's subsidy for the sale is taken from that campaign's
budget when the application is approved (`charge`), kept when it is signed (`use`) and given back when
it ends unsigned (`release`). A product without campaigns sells as before.

The budget is taken by one conditional UPDATE (`spent + subsidy <= budget`): the database decides
between two sales racing for the last of it, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_merchant, get_store
from fenqi.kit.errors import NotFound
from fenqi.kit.money import fmt_yuan, from_fen, to_fen
from fenqi.pricing.service import get_product
from fenqi.promotions.errors import CampaignBudgetSpent, CampaignNotFound, CampaignUnavailable, InvalidCampaign
from fenqi.promotions.models import Campaign, CampaignSpend
from fenqi.promotions.schemas import CampaignIn, CampaignOut


def create_campaign(
    session: Session, data: CampaignIn, *, merchant_id: int, actor_user_id: int | None = None
) -> CampaignOut:
    product = get_product(session, data.product_code)
    if product.cost_bearer != "merchant":
        raise InvalidCampaign.saying(f"{product.name_zh}不是由商户贴息的方案",
                                     f"{product.name_en} is not a merchant-subsidised plan")
    get_merchant(session, merchant_id)
    foreign = sorted(i for i in set(data.store_ids) if _store_merchant(session, i) != merchant_id)
    if foreign:
        raise InvalidCampaign.saying(f"门店 {foreign} 不属于该商户", f"stores {foreign} are not this merchant's")
    if data.ends_on < data.starts_on:
        raise InvalidCampaign.saying("结束日期早于开始日期", "it ends before it starts")
    budget = to_fen(data.budget)
    if budget <= 0:
        raise InvalidCampaign.saying("预算须大于 0", "the budget must be above zero")
    wrong = sorted(set(data.terms) - set(product.terms))
    if wrong:
        raise InvalidCampaign.saying(f"{product.name_zh}没有 {'、'.join(map(str, wrong))} 期",
                                     f"{product.name_en} does not offer {', '.join(map(str, wrong))} months")
    if session.scalar(select(Campaign.id).where(Campaign.code == data.code)) is not None:
        raise InvalidCampaign.saying(f"活动编号 {data.code} 已存在", f"the code {data.code} is taken")
    row = Campaign(
        code=data.code, merchant_id=merchant_id, name_zh=data.name_zh, name_en=data.name_en, product_code=product.code,
        starts_on=data.starts_on, ends_on=data.ends_on, sku_codes=sorted(set(data.sku_codes)),
        store_ids=sorted(set(data.store_ids)), terms=sorted(set(data.terms)), budget_fen=budget, spent_fen=0,
        sales=0, status="active", created_by=actor_user_id,
    )
    session.add(row)
    session.flush()
    return to_out(row)


def _store_merchant(session: Session, store_id: int) -> int | None:
    try:
        return get_store(session, store_id).merchant_id
    except NotFound:
        return None


def stop_campaign(session: Session, code: str) -> CampaignOut:
    row = _get(session, code)
    row.status = "stopped"
    session.flush()
    return to_out(row)


def list_campaigns(session: Session, merchant_id: int | None = None) -> list[CampaignOut]:
    q = select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id)
    if merchant_id is not None:
        q = q.where(Campaign.merchant_id == merchant_id)
    return [to_out(c) for c in session.scalars(q)]


def get_campaign(session: Session, code: str) -> CampaignOut:
    return to_out(_get(session, code))


def to_out(c: Campaign) -> CampaignOut:
    return CampaignOut(
        code=c.code, merchant_id=c.merchant_id, name_zh=c.name_zh, name_en=c.name_en, product_code=c.product_code,
        starts_on=c.starts_on,
        ends_on=c.ends_on, sku_codes=list(c.sku_codes), store_ids=list(c.store_ids), terms=list(c.terms),
        budget=fmt_yuan(from_fen(c.budget_fen)), spent=fmt_yuan(from_fen(c.spent_fen)),
        left=fmt_yuan(from_fen(c.budget_fen - c.spent_fen)), sales=c.sales, status=c.status,
    )


def _get(session: Session, code: str) -> Campaign:
    row = session.scalar(select(Campaign).where(Campaign.code == code))
    if row is None:
        raise CampaignNotFound(code)
    return row


def _fits(c: Campaign, *, sku_code: str, store_id: int, term: int, on: date) -> bool:
    return (
        c.status == "active" and c.starts_on <= on <= c.ends_on
        and (not c.sku_codes or sku_code in c.sku_codes)
        and (not c.store_ids or store_id in c.store_ids)
        and (not c.terms or term in c.terms)
    )


def charge(
    session: Session, *, application_id: int, merchant_id: int, product_code: str, sku_code: str, store_id: int,
    term: int, on: date, subsidy_fen: int, holds_nothing: bool = False,
) -> str | None:
    """Reserve a sale's subsidy from the campaign it falls in; the campaign's code, or None when the
    product has no campaigns. Raises CampaignUnavailable (no campaign fits) or CampaignBudgetSpent.
    `holds_nothing`: the application was created in this transaction, so it holds no reservation yet."""
    held = None if holds_nothing else session.scalar(
        select(CampaignSpend).where(CampaignSpend.application_id == application_id))
    if held is not None and held.status != "released":
        return session.scalar(select(Campaign.code).where(Campaign.id == held.campaign_id))
    campaigns = list(session.scalars(
        select(Campaign).where(Campaign.product_code == product_code, Campaign.merchant_id == merchant_id)
        .order_by(Campaign.ends_on, Campaign.id)
    ))
    if not campaigns:
        return None
    fitting = [c for c in campaigns if _fits(c, sku_code=sku_code, store_id=store_id, term=term, on=on)]
    if not fitting:
        raise CampaignUnavailable(product_code)
    for c in fitting:
        taken: Any = session.execute(
            update(Campaign)
            .where(Campaign.id == c.id, Campaign.status == "active",
                   Campaign.spent_fen + subsidy_fen <= Campaign.budget_fen)
            .values(spent_fen=Campaign.spent_fen + subsidy_fen, sales=Campaign.sales + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:
            if held is None:
                session.add(CampaignSpend(campaign_id=c.id, application_id=application_id, subsidy_fen=subsidy_fen,
                                          status="reserved"))
            else:
                held.campaign_id, held.subsidy_fen, held.status = c.id, subsidy_fen, "reserved"
            session.flush()
            _reload(session, c.id)
            return c.code
    raise CampaignBudgetSpent(fitting[0].name_zh)


def use(session: Session, application_id: int) -> None:
    """The sale was signed: its reservation is spent for good."""
    session.execute(
        update(CampaignSpend).where(CampaignSpend.application_id == application_id, CampaignSpend.status == "reserved")
        .values(status="used").execution_options(synchronize_session=False)
    )


def release(session: Session, application_id: int) -> None:
    """The application ended unsigned (declined, expired, cancelled): its subsidy goes back to the budget."""
    held = session.scalar(select(CampaignSpend).where(CampaignSpend.application_id == application_id,
                                                      CampaignSpend.status == "reserved"))
    if held is None:
        return
    session.execute(
        update(Campaign).where(Campaign.id == held.campaign_id)
        .values(spent_fen=Campaign.spent_fen - held.subsidy_fen, sales=Campaign.sales - 1)
        .execution_options(synchronize_session=False)
    )
    held.status = "released"
    session.flush()
    _reload(session, held.campaign_id)


def _reload(session: Session, campaign_id: int) -> None:
    """The conditional UPDATEs bypass the ORM: a Campaign already loaded in this session is re-read."""
    loaded = session.identity_map.get(session.identity_key(Campaign, campaign_id))
    if loaded is not None:
        session.refresh(loaded)
