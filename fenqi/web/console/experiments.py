"""Operations console: A/B tests of the plan menu (/ops/experiments) — create one with its arms, start and
stop it, and read each arm's conversion and early delinquency with the significance test against the
control."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fenqi.analytics import tables
from fenqi.experiments import service
from fenqi.experiments.arms import HIGHLIGHTS, ORDERS
from fenqi.experiments.results import ATTRIBUTION_DAYS, EARLY_DAYS, EARLY_DPD, ArmResult, results
from fenqi.experiments.stats import ZTest
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.db import utcnow
from fenqi.kit.errors import DomainError
from fenqi.kit.money import fmt_percent
from fenqi.kit.web import SessionDep, request_language
from fenqi.web.errors import page_error_text
from fenqi.web.render import render

router = APIRouter(prefix="/ops/experiments", include_in_schema=False)
viewers = require_roles("risk_officer", "finance")
runners = require_roles("risk_officer")
ARM_SLOTS = 3


async def _posted(request: Request) -> dict[str, str]:
    """The form's text fields, read on the event loop so that the endpoint can run in the thread pool."""
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


Posted = Depends(_posted)


def _page(request: Request, session: Session, who: Principal, error: str = "", status: int = 200,
          form: dict[str, str] | None = None) -> HTMLResponse:
    experiments = service.list_all(session)
    return render(request, "ops/experiments.html", {
        "who": who, "experiments": [(e, results(session, e)) for e in experiments],
        "statuses": service.STATUS_LABELS, "orders": ORDERS, "highlights": HIGHLIGHTS, "slots": range(ARM_SLOTS),
        "early_days": EARLY_DAYS, "early_dpd": EARLY_DPD, "attribution_days": ATTRIBUTION_DAYS, "error": error,
        "v": form or {}, "lang": request_language(request),
    }, status_code=status)


@router.get("", response_class=HTMLResponse)
def experiments_page(request: Request, who: Principal = Depends(viewers), *, session: SessionDep) -> HTMLResponse:
    return _page(request, session, who)


def arms_from_form(form: dict[str, str]) -> list[dict[str, Any]]:
    """The form's arm rows: a row without a code is left out."""
    return [{"code": form.get(f"arm{i}_code", "").strip(), "weight": form.get(f"arm{i}_weight", "").strip(),
             "order": form.get(f"arm{i}_order", ""), "highlight": form.get(f"arm{i}_highlight", "")}
            for i in range(ARM_SLOTS) if form.get(f"arm{i}_code", "").strip()]


@router.post("", response_model=None)
def create(request: Request, form: dict[str, str] = Posted, who: Principal = Depends(runners), *,
           session: SessionDep) -> Response:
    try:
        with session.begin_nested():
            service.create(session, code=form.get("code", "")[:60], name_zh=form.get("name_zh", "")[:200],
                           name_en=form.get("name_en", "")[:200], arms=arms_from_form(form),
                           actor_user_id=who.user_id)
    except DomainError as exc:
        return _page(request, session, who, page_error_text(request, exc), exc.status, form)
    return RedirectResponse("/ops/experiments", status_code=303)


def _change(request: Request, session: Session, who: Principal, code: str, action: str) -> Response:
    try:
        with session.begin_nested():
            (service.start if action == "start" else service.stop)(session, code[:40], actor_user_id=who.user_id)
    except DomainError as exc:
        return _page(request, session, who, page_error_text(request, exc), exc.status)
    return RedirectResponse("/ops/experiments", status_code=303)


@router.post("/{code}/start", response_model=None)
def start(request: Request, code: str, who: Principal = Depends(runners), *, session: SessionDep) -> Response:
    return _change(request, session, who, code, "start")


@router.post("/{code}/stop", response_model=None)
def stop(request: Request, code: str, who: Principal = Depends(runners), *, session: SessionDep) -> Response:
    return _change(request, session, who, code, "stop")


@router.get("/{code}.csv", response_class=Response)
def results_csv(request: Request, code: str, who: Principal = Depends(viewers), *, session: SessionDep) -> Response:
    """The experiment's results per arm, the page's table as CSV (UTF-8 with BOM)."""
    experiment = service.get(session, code[:40])
    table = results_table(results(session, experiment), request_language(request))
    name = tables.csv_filename(f"experiment-{experiment.code}", utcnow())
    return Response(tables.to_csv(table), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _p(test: ZTest | None, lang: str) -> str:
    if test is None:
        return "—"
    return f"{test.p_value}{tables.t(lang, ' 显著', ' significant') if test.significant else ''}"


def results_table(rows: list[ArmResult], lang: str) -> tables.Table:
    t = tables.t
    cols = [t(lang, "分组", "Arm"), t(lang, "权重", "Weight"), t(lang, "排序", "Order"),
            t(lang, "突出方案", "Highlight"), t(lang, "看到方案的顾客", "Shoppers shown"),
            t(lang, "已识别账户", "Known accounts"), t(lang, "签约", "Signed"), t(lang, "转化率", "Conversion"),
            t(lang, "转化 p 值", "Conversion p"), t(lang, "放款笔数", "Loans"), t(lang, "早期逾期", "Early delinquent"),
            t(lang, "早期逾期率", "Early delinquency"), t(lang, "逾期 p 值", "Delinquency p")]
    out = []
    for i, r in enumerate(rows):
        order, highlight = ORDERS[r.arm.order], HIGHLIGHTS[r.arm.highlight]
        out.append([r.arm.code + (t(lang, "（对照）", " (control)") if i == 0 else ""), str(r.arm.weight),
                    tables.label(order, lang), tables.label(highlight, lang), f"{r.exposed:,}", f"{r.linked:,}",
                    f"{r.signed:,}", "—" if r.conversion is None else fmt_percent(r.conversion),
                    _p(r.conversion_test, lang), f"{r.loans:,}", f"{r.early_bad:,}",
                    "—" if r.early_rate is None else fmt_percent(r.early_rate), _p(r.early_test, lang)])
    return tables.Table("experiment", cols, out)
