"""Share links (分享链接): a clerk or store shares `/s/{token}` to a phone (and, optionally, a plan); a
shopper who opens it carries the token to the application, which is then attributed to that clerk and
store — counted in the funnel's "share link" and "attributed clerk" groupings.

A token that is unknown, or of another merchant than the one the shopper ends up buying from, attributes
nothing and never stops an application."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_sku, get_store
from fenqi.kit.settings import get_settings
from fenqi.pricing.service import get_product
from fenqi.promotions.coupons import ALPHABET
from fenqi.promotions.errors import InvalidShareLink, ShareLinkNotFound
from fenqi.promotions.models import Attribution, ShareLink
from fenqi.promotions.schemas import ShareLinkIn, ShareLinkOut


def create(session: Session, data: ShareLinkIn, *, merchant_id: int, clerk_user_id: int | None) -> ShareLinkOut:
    sku = get_sku(session, data.sku, with_stock=False)
    if data.store_id is not None and get_store(session, data.store_id).merchant_id != merchant_id:
        raise InvalidShareLink("门店不属于该商户 / the store is not the merchant's")
    if (data.product is None) != (data.term is None):
        raise InvalidShareLink("产品和期数须同时指定 / name both the plan and the term, or neither")
    if data.product is not None and data.term not in get_product(session, data.product).terms:
        raise InvalidShareLink(f"期数 {data.term} 不在产品 {data.product} 的期数内 / term not offered")
    row = ShareLink(token=_token(), merchant_id=merchant_id, store_id=data.store_id,
                    clerk_user_id=clerk_user_id, sku_code=sku.code, product_code=data.product, term=data.term,
                    visits=0)
    session.add(row)
    session.flush()
    return to_out(row, 0)


def _token() -> str:
    """Eight letters and digits, unambiguous to read aloud or retype (no 0/O, 1/I)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(8))


def to_out(row: ShareLink, applications: int) -> ShareLinkOut:
    return ShareLinkOut(token=row.token, url=f"{get_settings().base_url.rstrip('/')}/s/{row.token}",
                        merchant_id=row.merchant_id, store_id=row.store_id, clerk_user_id=row.clerk_user_id,
                        sku=row.sku_code, product=row.product_code, term=row.term, visits=row.visits,
                        applications=applications)


def links_of(session: Session, *, merchant_id: int, clerk_user_id: int | None = None) -> list[ShareLinkOut]:
    """A merchant's links (a clerk's own, given the clerk) with how many applications each brought."""
    counts = select(Attribution.share_link_id, func.count().label("n")).group_by(
        Attribution.share_link_id).subquery()
    q = (select(ShareLink, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.share_link_id == ShareLink.id)
         .where(ShareLink.merchant_id == merchant_id).order_by(ShareLink.id.desc()).limit(200))
    if clerk_user_id is not None:
        q = q.where(ShareLink.clerk_user_id == clerk_user_id)
    return [to_out(row, int(n)) for row, n in session.execute(q).all()]


def visit(session: Session, token: str) -> ShareLinkOut:
    """Someone opened the link: counted (one UPDATE, no read-then-write) and where to send them."""
    session.execute(update(ShareLink).where(ShareLink.token == token[:16]).values(visits=ShareLink.visits + 1)
                    .execution_options(synchronize_session=False))
    row = session.scalar(select(ShareLink).where(ShareLink.token == token[:16]))
    if row is None:
        raise ShareLinkNotFound(token[:16])
    session.refresh(row)
    return to_out(row, 0)


def attribute(session: Session, *, application_id: int, token: str, merchant_id: int) -> bool:
    """Record that an application came through a link; False (nothing recorded) for an unknown token or
    another merchant's link."""
    link = session.scalar(select(ShareLink).where(ShareLink.token == token[:16]))
    if link is None or link.merchant_id != merchant_id:
        return False
    session.add(Attribution(application_id=application_id, share_link_id=link.id))
    session.flush()
    return True
