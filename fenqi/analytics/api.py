"""HTTP for the business's own figures (staff only): the sales funnel, portfolio quality and product
performance as JSON, and each table as CSV (UTF-8 with BOM, zh-CN labels unless `lang=en`)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from fenqi.analytics import funnel as fn
from fenqi.analytics import portfolio as pf
from fenqi.analytics import products as pr
from fenqi.analytics import tables
from fenqi.analytics.review import review_pdf as render_review
from fenqi.analytics.schemas import (
    DropOffOut,
    ExpectedLossOut,
    FunnelOut,
    FunnelRowOut,
    LossMonthOut,
    PortfolioOut,
    ProductOut,
    ProductsOut,
    RollOut,
    RollRowOut,
    StoreOut,
    SuggestionOut,
    VintageOut,
)
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.clock import business_date
from fenqi.kit.db import Session, utcnow
from fenqi.kit.errors import InvalidInput
from fenqi.kit.money import fmt_yuan, from_fen
from fenqi.kit.web import SessionDep

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
analysts = require_roles("risk_officer", "finance", "collection_lead")
GROUPING = "^(all|store|clerk|channel|price_band|term|product|share_link|referrer|campaign)$"
Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", description="2026-03")]
Lang = Annotated[str, Query(pattern="^(zh|en)$", description="CSV labels: zh (default) or en")]
RateText = Annotated[str | None, Query(max_length=12, pattern=r"^\d(\.\d{1,6})?$")]


def _r(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _y(fen: int) -> str:
    return fmt_yuan(from_fen(fen))


def period(session: Session, start: date | None, end: date | None) -> tuple[date, date]:
    """Default: the 30 business days up to today; at most ten years."""
    end = end or business_date(session)
    start = start or end - timedelta(days=29)
    if (end - start).days > 3660:
        raise InvalidInput.saying("期间最长十年", "the period is at most ten years")
    return start, end


def funnel_out(f: fn.Funnel) -> FunnelOut:
    rows = [FunnelRowOut(key=r.key, zh=r.zh, en=r.en, counts=r.counts,
                         conversion={k: _r(v) for k, v in r.conversion.items()}, median_seconds=r.median_seconds,
                         approved=r.approved, overall=_r(r.overall)) for r in f.rows]
    drops = [DropOffOut(kind=d.kind, code=d.code, zh=d.zh, en=d.en, count=d.count) for d in f.drop_offs]
    return FunnelOut(dimension=f.dimension, start=f.start.isoformat(), end=f.end.isoformat(),
                     steps=[s for s, _, _ in fn.STEPS], rows=rows, drop_offs=drops)


def provision_overrides(**rates: str | None) -> dict[str, Decimal]:
    return pf.provision_rates({k: v for k, v in rates.items() if v is not None})


def portfolio_out(session: Session, start: str | None, end: str | None, rates: dict[str, Decimal]) -> PortfolioOut:
    day, el = pf.expected_loss(session, rates=rates)
    roll = pf.roll_rates(session, start=start, end=end)
    return PortfolioOut(
        snapshot_date=day.isoformat() if day else None,
        vintages=[VintageOut(month=v.month, product_code=v.product_code, name_zh=v.name_zh, name_en=v.name_en,
                             loans=v.loans, financed=_y(v.financed_fen), bad=list(v.bad),
                             shares=[_r(s) for s in v.shares]) for v in pf.vintages(session)],
        roll_rates=RollOut(first=roll.first, last=roll.last, states=list(pf.STATES), rows=[
            RollRowOut(state=r.state, zh=pf.STATE_LABELS[r.state][0], en=pf.STATE_LABELS[r.state][1], loans=r.loans,
                       to=r.to, rates={k: _r(v) for k, v in r.rates.items()}, cure_rate=_r(r.cure_rate))
            for r in roll.rows]),
        losses=[LossMonthOut(month=m.month, written_off_loans=m.written_off_loans, written_off=_y(m.written_off_fen),
                             recovered=_y(m.recovered_fen)) for m in pf.losses(session)],
        expected_loss=[ExpectedLossOut(state=e.state, zh=pf.STATE_LABELS[e.state][0], en=pf.STATE_LABELS[e.state][1],
                                       loans=e.loans, principal=_y(e.principal_fen),
                                       provision_rate=str(e.provision_rate), expected_loss=_y(e.expected_loss_fen))
                       for e in el],
        expected_loss_total=_y(sum(e.expected_loss_fen for e in el)),
    )


def csv_response(table: tables.Table) -> Response:
    name = tables.csv_filename(table.name, utcnow())
    return Response(tables.to_csv(table), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/funnel", response_model=FunnelOut, summary="The sales funnel (销售漏斗) by a grouping")
def funnel_json(
    start: date | None = None, end: date | None = None,
    by: Annotated[str, Query(pattern=GROUPING)] = "all",
    *, session: SessionDep, who: Principal = Depends(analysts),
) -> FunnelOut:
    first, last = period(session, start, end)
    return funnel_out(fn.funnel(session, start=first, end=last, dimension=by))


@router.get("/portfolio", response_model=PortfolioOut,
            summary="Portfolio quality (资产质量): vintages, roll rates, cures, losses, expected loss")
def portfolio_json(
    start: Month = None, end: Month = None, current: RateText = None, d1_29: RateText = None,
    d30_59: RateText = None, d60_89: RateText = None, d90p: RateText = None,
    *, session: SessionDep, who: Principal = Depends(analysts),
) -> PortfolioOut:
    rates = provision_overrides(current=current, d1_29=d1_29, d30_59=d30_59, d60_89=d60_89, d90p=d90p)
    return portfolio_out(session, start, end, rates)


CSV_TABLES = ("funnel", "drop_offs", "vintages", "roll_rates", "losses", "expected_loss", "products", "stores",
              "suggestions")


def product_figures(session: Session, start: date | None, end: date | None, min_loans: int = 10
                    ) -> tuple[list[pr.ProductRow], list[pr.StoreRow], list[pr.Suggestion]]:
    """Default period: the year up to today."""
    last = end or business_date(session)
    first, last = period(session, start or last - timedelta(days=364), last)
    rows = pr.product_table(session, start=first, end=last)
    stores = pr.store_table(session, start=first, end=last)
    return rows, stores, pr.suggestions(rows, stores, min_loans=min_loans)


@router.get("/products", response_model=ProductsOut,
            summary="Product performance (产品表现) per product and term, stores' delinquency, suggestions")
def products_json(
    start: date | None = None, end: date | None = None, min_loans: Annotated[int, Query(ge=1, le=100000)] = 10,
    *, session: SessionDep, who: Principal = Depends(analysts),
) -> ProductsOut:
    rows, stores, found = product_figures(session, start, end, min_loans)
    return ProductsOut(
        products=[ProductOut(
            key=r.key, product_code=r.product_code, name_zh=r.name_zh, name_en=r.name_en, term=r.term,
            applications=r.applications, decided=r.decided, approved=r.approved, signed=r.signed, loans=r.loans,
            financed=_y(r.financed_fen), share=_r(r.share), approval_rate=_r(r.approval_rate), take_up=_r(r.take_up),
            apr=_r(r.apr), bad_loans=r.bad_loans, bad_rate=_r(r.bad_rate), written_off=_y(r.written_off_fen),
            loss_rate=_r(r.loss_rate), subsidy=_y(r.subsidy_fen),
            subsidy_per_sale=None if r.subsidy_per_sale_fen is None else _y(r.subsidy_per_sale_fen),
            funder_margin=_r(r.funder_margin)) for r in rows],
        stores=[StoreOut(store_id=s.store_id, name=s.name, loans=s.loans, bad_loans=s.bad_loans,
                         bad_rate=_r(s.bad_rate), peer_bad_rate=_r(s.peer_bad_rate)) for s in stores],
        suggestions=[SuggestionOut(kind=s.kind, zh=s.zh, en=s.en, evidence=s.evidence, figures=s.figures)
                     for s in found],
    )


@router.get("/review.pdf", summary="The monthly business review (月度经营分析) as a PDF", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def review_pdf(
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="2026-03")],
    *, session: SessionDep, who: Principal = Depends(analysts),
) -> Response:
    return pdf_response(render_review(session, month), month)


def pdf_response(pdf: bytes, month: str) -> Response:
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="review-{month}.pdf"'})


@router.get("/{table}.csv", summary="One analytics table as CSV (UTF-8 with BOM)", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def table_csv(
    table: Annotated[str, Path(pattern=f"^({'|'.join(CSV_TABLES)})$")],
    start: date | None = None, end: date | None = None,
    by: Annotated[str, Query(pattern=GROUPING)] = "all",
    lang: Lang = "zh", *, session: SessionDep, who: Principal = Depends(analysts),
) -> Response:
    return csv_response(build_table(session, table, start=start, end=end, by=by, lang=lang))


def build_table(session: Session, table: str, *, start: date | None, end: date | None, by: str, lang: str
                ) -> tables.Table:
    if table in ("funnel", "drop_offs"):
        first, last = period(session, start, end)
        f = fn.funnel(session, start=first, end=last, dimension=by)
        return tables.funnel_table(f, lang) if table == "funnel" else tables.drop_off_table(f, lang)
    if table == "vintages":
        return tables.vintage_table(pf.vintages(session), lang)
    if table == "roll_rates":
        return tables.roll_table(pf.roll_rates(session), lang)
    if table == "losses":
        return tables.loss_table(pf.losses(session), lang)
    if table == "expected_loss":
        return tables.expected_loss_table(pf.expected_loss(session)[1], lang)
    if table in ("products", "stores", "suggestions"):
        rows, stores, found = product_figures(session, start, end)
        if table == "products":
            return tables.product_table(rows, lang)
        return tables.store_table(stores, lang) if table == "stores" else tables.suggestion_table(found, lang)
    raise InvalidInput.saying(f"未知的报表：{table[:20]}", f"unknown table: {table[:20]}")
