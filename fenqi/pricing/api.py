"""HTTP: quotes and products (deliberately public: a shopper compares plans before signing in). The plan
menu, `GET /api/v1/plans`, is served by `fenqi.catalog.api`: asked by SKU it answers with a catalog phone."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from fenqi.identity.deps import Principal, require_roles
from fenqi.identity.service import audit
from fenqi.kit.bounds import Amount
from fenqi.kit.clock import business_date
from fenqi.kit.web import LazySessionDep, SessionDep
from fenqi.pricing.models import Product
from fenqi.pricing.schemas import ProductIn, ProductList, ProductOut, QuoteOut, product_json
from fenqi.pricing.service import create_product, quote_from_input, set_product_active

router = APIRouter(prefix="/api/v1", tags=["pricing"])

Scalar = str | int | float | Decimal | None
# Amounts are bounded by their type (fenqi.kit.bounds); term, method and rates keep the domain's own
# parsing (not pydantic coercion), so the CLI and the API refuse the same input with the same errors.


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

    price: Amount
    down_payment: Amount = Decimal("0")
    term: Scalar
    method: Scalar
    annual_rate: Scalar = "0"
    fee_rate: Scalar = "0"
    start: str | None = None


@router.post("/quotes", response_model=QuoteOut, summary="Price one plan: schedule, totals and APR")
async def create_quote(body: QuoteIn, session: LazySessionDep) -> JSONResponse:
    # Values go through the domain's own strict parsing (not pydantic coercion) so that the CLI
    # and the API refuse exactly the same input with exactly the same errors. Pricing is pure and
    # takes a fraction of a millisecond, so it runs on the event loop; only a quote without a start
    # date touches the database (the session connects lazily), and that read goes to the thread pool.
    fields = body.model_dump()
    today = None if fields["start"] else await run_in_threadpool(business_date, session)
    # The result is already JSON-ready (strings and ints): returned as is, not re-encoded field by field.
    return JSONResponse(quote_from_input(None, today=today, **fields).to_json())


@router.get(
    "/products", response_model=ProductList,
    summary="Installment products (public: the terms any shopper may be offered)",
)
def list_products(session: SessionDep) -> dict[str, Any]:
    rows = session.scalars(select(Product).order_by(Product.code))
    return {"products": [product_json(p) for p in rows]}


@router.post("/products", response_model=ProductOut, status_code=201, summary="Create an installment product (admin)")
def add_product(
    body: ProductIn, session: SessionDep, who: Principal = Depends(require_roles("admin"))
) -> dict[str, Any]:
    product = create_product(session, body)
    audit(session, actor_user_id=who.user_id, action="product.create", subject=product.code)
    return product_json(product)


@router.post("/products/{code}/deactivate", response_model=ProductOut, summary="Stop offering a product (admin)")
def deactivate_product(
    code: str, session: SessionDep, who: Principal = Depends(require_roles("admin"))
) -> dict[str, Any]:
    product = set_product_active(session, code, False)
    audit(session, actor_user_id=who.user_id, action="product.deactivate", subject=code)
    return product_json(product)
