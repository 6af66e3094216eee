"""HTTP: quotes and the plan menu (deliberately public: a shopper compares plans before signing in)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from fenqi.kit.db import Session
from fenqi.kit.money import fmt_yuan, parse_yuan
from fenqi.kit.web import get_session
from fenqi.pricing.errors import InvalidPrice
from fenqi.pricing.service import menu_for_price, quote_from_input, read_business_date

router = APIRouter(prefix="/api/v1", tags=["pricing"])

Scalar = str | int | float | Decimal | None


class QuoteIn(BaseModel):
    """Amounts as strings ("5999.00") or numbers; rates as fractions (0.12 = 12%)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "price": "5999.00", "down_payment": "1000.00", "term": 12,
                "method": "equal-installment", "annual_rate": "0.12", "start": "2026-01-15",
            }
        }
    )

    price: Scalar
    down_payment: Scalar = "0"
    term: Scalar
    method: Scalar
    annual_rate: Scalar = "0"
    fee_rate: Scalar = "0"
    start: str | None = None


@router.post("/quotes", summary="Price one plan: schedule, totals and APR")
async def create_quote(body: QuoteIn) -> JSONResponse:
    # Values go through the domain's own strict parsing (not pydantic coercion) so that the CLI
    # and the API refuse exactly the same input with exactly the same errors. Pricing is pure and
    # takes a fraction of a millisecond, so it runs on the event loop; only a quote without a start
    # date needs the database (for the business date), and that read goes to the thread pool.
    fields = body.model_dump()
    today = None if fields["start"] else await run_in_threadpool(read_business_date)
    # The result is already JSON-ready (strings and ints): returned as is, not re-encoded field by field.
    return JSONResponse(quote_from_input(None, today=today, **fields).to_json())


@router.get("/plans", summary="The plan menu for a price: every product × term with APR")
def list_plans(
    price: str = Query(..., description="Price in yuan, e.g. 5999.00"),
    down_payment: str | None = Query(None, description="Optional down payment in yuan"),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    price_d = parse_yuan(price, field="price")
    if price_d <= 0:
        raise InvalidPrice()
    down = parse_yuan(down_payment, field="down_payment") if down_payment is not None else None
    options = menu_for_price(session, price_d, down)
    return {"price": fmt_yuan(price_d), "plans": [o.to_json() for o in options]}
