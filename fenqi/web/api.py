"""Public pages: `/` is the shop (the phones on sale, fenqi.web.shopper.catalog); the plan calculator
for any price has a page of its own. No personal data: deliberately public."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fenqi.kit.bounds import AmountText
from fenqi.kit.errors import DomainError
from fenqi.kit.money import parse_yuan
from fenqi.kit.web import SessionDep, request_language
from fenqi.pricing.errors import InvalidPrice
from fenqi.pricing.service import menu_for_price
from fenqi.web import console, devices, legal, payments, shopper, signin
from fenqi.web.errors import page_error_text
from fenqi.web.render import render
from fenqi.web.shopper.catalog import by_term, plan_view

router = APIRouter(include_in_schema=False)
router.include_router(signin.router)  # shoppers' and staff's sign-in, logout, "my account"
router.include_router(payments.router)  # the cashier page of an order, the demo payment form
router.include_router(devices.router)  # the lock screen, the operations view of a loan's phones
# The shopper's mobile pages and the staff consoles (merchant, operations) live in their own modules.
router.include_router(shopper.router)
router.include_router(console.router)
router.include_router(legal.router)  # the terms and the privacy policy agreed to at sign-in


@router.get("/calculator", response_class=HTMLResponse)
def calculator(request: Request, price: AmountText = "5999.00", *, session: SessionDep) -> HTMLResponse:
    """Every plan for a price, ranked and labelled as the plan chooser ranks them: by term, the least the
    shopper really pays in all (down payment + every installment, interest and fees) first."""
    error, terms = "", []
    lang = request_language(request)
    try:
        price_d = parse_yuan(price, field="price")
        if price_d <= 0:
            raise InvalidPrice()
        terms = by_term([plan_view(o, lang) for o in menu_for_price(session, price_d)])
    except DomainError as exc:
        error = page_error_text(request, exc)
    return render(request, "shopper/calculator.html", {"price": price, "terms": terms, "error": error})
