"""The shopper's coupons (我的优惠券) and the share links' landing (`/s/{token}`, public): the link is
counted, remembered in a cookie for the application it may lead to, and the shopper is sent to the
phone's plans (or straight to the application form when the link names a plan)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fenqi.identity.deps import Principal
from fenqi.kit.clock import business_date
from fenqi.kit.errors import DomainError
from fenqi.kit.web import SessionDep, request_language
from fenqi.promotions import coupons, share_links
from fenqi.web.render import render
from fenqi.web.shopper.common import Shopper, error_page

router = APIRouter()
SHARE_COOKIE = "fenqi_share"
STATUS = {"issued": ("可使用", "Ready to use"), "redeemed": ("已使用", "Used"), "void": ("已作废", "Void")}


@router.get("/s/{token}")
def open_share_link(
    request: Request, token: str = Path(max_length=16, pattern=r"^[A-Za-z0-9_-]+$"), *, session: SessionDep,
) -> Response:
    try:
        link = share_links.visit(session, token)
    except DomainError as exc:
        return error_page(request, exc, "/shop", exc.status)
    target = f"/shop/phones/{link.sku}"
    if link.product and link.term:
        target = "/shop/apply?" + urlencode({"sku": link.sku, "product": link.product, "term": link.term})
    answer = RedirectResponse(target, status_code=303)
    answer.set_cookie(SHARE_COOKIE, link.token, max_age=30 * 86400, httponly=True, samesite="lax")
    return answer


@router.get("/shop/coupons", response_class=HTMLResponse)
def my_coupons(request: Request, *, session: SessionDep, who: Principal = Shopper) -> HTMLResponse:
    lang = request_language(request)
    today = business_date(session)
    items = [{"coupon": c, "kind": coupons.KINDS[c.kind][0 if lang == "zh" else 1],
              "what": coupons.describe(c, lang),
              "status": ("已过期", "Expired")[lang != "zh"] if c.status == "issued" and c.valid_to < today
              else STATUS[c.status][lang != "zh"],
              "usable": c.status == "issued" and c.valid_from <= today <= c.valid_to}
             for c in coupons.coupons_of(session, who.user_id)]
    return render(request, "shopper/coupons.html", {"items": items})
