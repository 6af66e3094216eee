"""After-sales' scheduled work and its port: the close-of-business day step that flags late repairs and
offers a loaner phone under the 三包 loaner rule (registered by wiring.install()), the periodic job that
finishes returns, and the "phone back" port other domains listen on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.aftersales.support import call, make_sale, retire, set_day
from tests.aftersales.test_exchange_repair import checklist, shelf_phone
from tests.payments.payments_loopback import committed


def test_resume_returns_is_a_periodic_job(live_server: str) -> None:
    from fenqi.kit.jobs import load_kinds

    kind = load_kinds()["aftersales.resume_returns"]
    assert kind.cron == "*/5 * * * *" and kind.queueing_lock == "aftersales.resume_returns"
    assert set(kind.fn()) == {"completed", "open", "error"}  # it runs (over whatever returns are open now)


def test_the_close_of_business_flags_late_repairs_and_offers_a_loaner(live_server: str) -> None:
    from fenqi.aftersales.models import CaseEvent
    from fenqi.kit.clock import business_date
    from fenqi.servicing import cob_steps
    from fenqi.wiring import install

    install()
    assert "aftersales.repairs" in cob_steps._day_steps  # registered by aftersales.hooks.install()
    step = cob_steps._day_steps["aftersales.repairs"][1]
    sale = make_sale()
    set_day(40)
    r = call(live_server, "POST", "/api/v1/aftersales/cases", sale.clerk,
             {"imei": sale.imei, "requested": "repair", "reason": "fault", "description": "无法充电"})
    case_id = r.json()["id"]
    call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/inspection", sale.clerk,
         {"results": checklist(live_server, sale)})
    ticket = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
                  {"outcome": "repair"}).json()["repair"]
    assert ticket["loaner_offered"] is False

    def kinds() -> list[str]:
        with committed() as s:
            return [e.kind for e in s.query(CaseEvent).filter(CaseEvent.subject == f"case:{case_id}")]

    with committed() as s:  # day 41 closes: one day in repair, nothing due yet
        step(s, business_date(s) + timedelta(days=1))
    assert "loaner_offered" not in kinds()
    set_day(42)
    for _ in range(2):  # day 42 closes: three days in repair — the loaner is offered, once
        with committed() as s:
            step(s, business_date(s))
    assert kinds().count("loaner_offered") == 1
    set_day(43)  # the close moved the business date on
    case: dict[str, Any] = call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.shopper).json()
    assert case["repair"]["loaner_offered"] is True and case["repair"]["breached"] is False
    assert any("可到门店领取备用机" in e["text"] for e in case["events"])

    set_day(47)  # day 47 closes with the phone still in repair: past the 7-day promise
    with committed() as s:
        step(s, business_date(s))
    case = call(live_server, "GET", f"/api/v1/aftersales/cases/{case_id}", sale.shopper).json()
    assert case["repair"]["breached"] is True and "repair_breached" in kinds()
    retire(sale)


def test_a_returned_or_exchanged_phone_is_announced_on_the_port(live_server: str) -> None:
    from fenqi.aftersales.cases import PhoneBack, _phone_back_listeners, on_phone_back

    heard: list[PhoneBack] = []

    def listener(session: Any, back: PhoneBack) -> None:
        heard.append(back)

    on_phone_back(listener)
    try:
        sale = make_sale()
        new = shelf_phone(sale, sale.price_fen)
        set_day(3)
        r = call(live_server, "POST", "/api/v1/aftersales/cases", sale.clerk,
                 {"imei": sale.imei, "requested": "exchange", "reason": "fault"})
        case_id = r.json()["id"]
        call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/inspection", sale.clerk,
             {"results": checklist(live_server, sale)})
        r = call(live_server, "POST", f"/api/v1/aftersales/cases/{case_id}/decision", sale.clerk,
                 {"outcome": "exchange", "new_imei": new})
        assert r.status_code == 200, r.text
        assert [(b.kind, b.imei, b.new_imei, b.loan_id, b.in_stock) for b in heard] == [
            ("exchanged", sale.imei, new, sale.loan_id, True)]
        retire(sale)
    finally:
        _phone_back_listeners.remove(listener)
