"""Pages of the device lock: the lock screen the agent shows (zh-CN first; the device authenticates with
its token and IMEI headers, like a check-in), and the operations view of a loan's phones with their
history. Times are shown in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse

from fenqi.devices import service
from fenqi.devices.errors import BadDeviceToken
from fenqi.devices.policy import LockState
from fenqi.identity.deps import Principal, require_roles
from fenqi.kit.bounds import EntityId
from fenqi.kit.db import utcnow
from fenqi.kit.web import SessionDep, request_language
from fenqi.servicing.service import get_loan
from fenqi.web.render import render

router = APIRouter(include_in_schema=False)
viewers = require_roles("collector", "collection_lead", "risk_officer", "finance")  # read only
SHANGHAI = ZoneInfo("Asia/Shanghai")

STATE_LABELS = {
    LockState.NORMAL: ("正常使用", "Normal"), LockState.REMINDER: ("还款提醒", "Payment reminder"),
    LockState.LOCKED: ("已锁定（限制使用）", "Locked (restricted)"),
    LockState.RELEASED: ("已释放（永久解除）", "Released"),
}
REASON_LABELS = {
    "handover": ("交付登记", "Handover"), "cob": ("日终批处理", "Close of business"),
    "checkin": ("设备签到", "Check-in"),
    "payment": ("还款", "Payment"), "payoff": ("结清", "Payoff"), "return": ("退货", "Return"),
    "exchange": ("换货", "Exchange"), "staff": ("人工操作", "Staff"), "job": ("后台任务", "Background job"),
}
KIND_LABELS = {
    "state": ("状态变更", "State change"), "warning": ("锁机预警已发送", "Lock warning queued"),
    "enrolled": ("锁机程序已登记", "Agent enrolled"), "push_unlock": ("解锁推送", "Unlock push"),
    "release_cancelled": ("撤销释放", "Release cancelled"),
}


def local(at: datetime | None) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else "—"


def label(table: dict[str, tuple[str, str]], key: str | None, lang: str) -> str:
    zh, en = table.get(key or "", (key or "—", key or "—"))
    return zh if lang == "zh" else en


@router.get("/device/lock-screen", response_class=HTMLResponse)
def lock_screen(
    request: Request, token: str = Header("", alias="X-Device-Token", max_length=200),
    imei: str = Header("", alias="X-Device-IMEI", max_length=20), *, session: SessionDep,
) -> HTMLResponse:
    if not token and not imei:  # opened in a browser, not by the agent: say what the page is
        return render(request, "devices/lock_screen.html", {"absent": True, "denied": True})
    try:
        device = service.authenticate(session, token, imei)
    except BadDeviceToken:
        return render(request, "devices/lock_screen.html", {"denied": True}, status_code=401)
    state = service.shown_state(device, utcnow())
    shown = service.screen(session, device) if state in (LockState.REMINDER, LockState.LOCKED) else {}
    return render(request, "devices/lock_screen.html", {
        "denied": False, "state": state, "shown": shown, "state_label": label(STATE_LABELS, state, "zh"),
    })


@router.get("/ops/loans/{loan_id}/device", response_class=HTMLResponse)
def ops_device(request: Request, loan_id: EntityId, session: SessionDep,
               who: Principal = Depends(viewers)) -> HTMLResponse:
    loan = get_loan(session, loan_id)
    lang = request_language(request)
    devices = [(d, service.history(session, d.id)) for d in service.loan_devices(session, loan_id)]
    return render(request, "devices/ops_device.html", {
        "who": who, "loan": loan, "devices": devices, "local": local, "now": utcnow(),
        "state_of": lambda key: label(STATE_LABELS, key, lang),
        "reason_of": lambda key: label(REASON_LABELS, key, lang),
        "kind_of": lambda key: label(KIND_LABELS, key, lang), "mask": lambda imei: f"{imei[:6]}*******{imei[-2:]}",
    })
