"""Operations console: the notification outbox (what was queued for whom and where it is) and the audit
log (who did what), newest first. Times are shown in Beijing time."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from fenqi.identity.deps import Principal, require_roles
from fenqi.identity.outbox import latest_notifications, shown_body
from fenqi.identity.roles import ADMIN, COLLECTOR, FINANCE, RISK_OFFICER
from fenqi.identity.service import latest_audit
from fenqi.kit.web import SessionDep
from fenqi.web.render import render

router = APIRouter(include_in_schema=False)
SHANGHAI = ZoneInfo("Asia/Shanghai")  # pages show times in Beijing time


@router.get("/ops/notifications", response_class=HTMLResponse)
def outbox_page(
    request: Request,
    _: Principal = Depends(require_roles(RISK_OFFICER, COLLECTOR, FINANCE)),
    *, session: SessionDep,
) -> HTMLResponse:
    rows = latest_notifications(session, limit=100)
    # Bodies as shown_body gives them: no login code and no personal number outside the demo.
    return render(request, "identity/outbox.html", {"rows": [
        (n, n.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"), shown_body(n)) for n in rows]})


@router.get("/ops/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    _: Principal = Depends(require_roles(ADMIN)),
    *, session: SessionDep,
) -> HTMLResponse:
    return render(request, "identity/audit.html", {"rows": latest_audit(session, limit=200)})
