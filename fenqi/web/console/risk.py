"""Operations console for risk officers: the manual review queue, one decision with its working, and model
monitoring (PSI and calibration, with their CSV tables)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.errors import DomainError
from fenqi.kit.money import from_fen
from fenqi.kit.web import SessionDep, request_language
from fenqi.pricing.service import product_names
from fenqi.risk import monitoring, service
from fenqi.risk import monitoring_csv as monitoring_csv_rows
from fenqi.risk.reasons import FEATURE_REASONS
from fenqi.web.render import render

router = APIRouter(include_in_schema=False)
officer = require_roles("risk_officer")


@router.get("/ops/risk/reviews", response_class=HTMLResponse)
def reviews_page(
    request: Request, status: str = "pending", *, session: SessionDep,
    who: Principal = Depends(officer),
) -> HTMLResponse:
    status = status if status in ("pending", "approved", "declined") else "pending"
    items = service.review_queue(session, status=status, limit=200)
    alerts = monitoring.last_days(session, 30).alerts
    return render(request, "risk/reviews.html", {"items": items, "status": status, "yuan": _yuan, "alerts": alerts})


@router.get("/ops/risk/monitoring", response_class=HTMLResponse)
def monitoring_page(
    request: Request, days: int = Query(30, ge=1, le=366), *, session: SessionDep,
    who: Principal = Depends(officer),
) -> HTMLResponse:
    report = monitoring.last_days(session, days)
    names = monitoring_csv_rows.names()
    return render(request, "risk/monitoring.html", {
        "r": report, "days": days, "names": names, "watch": monitoring.PSI_WATCH, "alert": monitoring.PSI_ALERT,
        "min_loans": monitoring.MIN_LOANS,
    })


@router.get("/ops/risk/monitoring/{table}.csv", response_class=Response)
def monitoring_csv(
    request: Request, table: Annotated[str, Path(pattern=f"^({'|'.join(monitoring_csv_rows.TABLES)})$")],
    days: int = Query(30, ge=1, le=366), *, session: SessionDep, who: Principal = Depends(officer),
) -> Response:
    """The page's PSI or calibration table as CSV (UTF-8 with BOM)."""
    report = monitoring.last_days(session, days)
    lang = request_language(request)
    rows = (monitoring_csv_rows.psi_rows(report, lang) if table == "psi"
            else monitoring_csv_rows.calibration_rows(report, lang, monitoring.MIN_LOANS))
    name = f"model-{table}-{report.since:%Y%m%d}-{report.until:%Y%m%d}.csv"
    return Response(monitoring_csv_rows.to_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _yuan(fen: int) -> str:
    """¥ amounts on the pages, with thousands separators: 550000 fen → "5,500.00"."""
    return f"{from_fen(fen):,.2f}"


def _detail(request: Request, session: Session, decision_id: int, error: str = "", status: int = 200) -> HTMLResponse:
    decision = service.get_decision(session, decision_id)
    replay = service.replay(session, decision_id)
    points = service.decision_points(session, decision_id)
    features = [(name, FEATURE_REASONS[name], p) for name, p in points.items()]
    # The plans allowed by their names, as the clerk and the shopper know them (pricing's names, not its codes).
    plan_names = product_names(session, (p.product_code for p in decision.allowed_plans))
    return render(request, "risk/decision.html", {
        "d": decision, "features": features, "replay": replay, "error": error, "yuan": _yuan,
        "plan_names": plan_names,
    }, status_code=status)


@router.get("/ops/risk/decisions/{decision_id}", response_class=HTMLResponse)
def decision_page(
    request: Request, decision_id: EntityId, session: SessionDep, who: Principal = Depends(officer),
) -> HTMLResponse:
    return _detail(request, session, decision_id)


@router.post("/ops/risk/decisions/{decision_id}/review", response_model=None)
def review_form(
    request: Request, decision_id: EntityId, verdict: Annotated[str, Form()], note: Annotated[str, Form()] = "",
    *, session: SessionDep, who: Principal = Depends(officer),
) -> Response:
    try:
        service.review(session, decision_id, approve=verdict == "approve", note=note, reviewer_id=who.user_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _detail(request, session, decision_id, exc.message(request_language(request)), exc.status)
    return RedirectResponse(f"/ops/risk/decisions/{decision_id}", status_code=303)
