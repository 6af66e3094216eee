"""The partner registry as docs/partners.md states it: a registered funder is routed to only while
contracted with a valid financial licence and a contract in force; an expired licence stops routing;
reminders 60/30/7 days before expiry, raised by the nightly close."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.partners import service
from fenqi.partners.schemas import ContractIn, LicenceIn, PartnerIn
from fenqi.servicing.cob_runs import close_day
from tests.origination.world import TODAY, World, build_world

Headers = Callable[..., dict[str, str]]


def register_fb(session: Session, *, licence_to: Any = None, contract_to: Any = None,
                status: str = "contracted") -> None:
    service.create_partner(session, PartnerIn(code="P-FB", name="乙消费金融", role="funder", status=status,
                                              funder_code="FB"))
    service.add_licence(session, "P-FB", LicenceIn(kind="financial", number="L0001", valid_from=TODAY - timedelta(400),
                                                   expires_on=licence_to or TODAY + timedelta(365)))
    service.add_contract(session, "P-FB", ContractIn(reference="C-2026-01", starts_on=TODAY - timedelta(30),
                                                     ends_on=contract_to or TODAY + timedelta(365),
                                                     terms={"settlement_days": 1, "early_repayment": "allowed"}))


def applied_funder(client: TestClient, world: World, clerk: dict[str, str]) -> str | None:
    answer = client.post("/api/v1/applications", json=world.body(), headers=clerk)
    assert answer.status_code in (201, 409), answer.text
    return answer.json()["application"]["funder"] if answer.status_code == 201 else None


def test_a_registered_funder_in_good_standing_is_routed_to(
    client: TestClient, session: Session, auth_headers: Headers
) -> None:
    world = build_world(session)
    register_fb(session)
    # Lowest cost routing picks FB (6%) over FA (8%) when FB is in good standing.
    assert applied_funder(client, world, auth_headers("clerk", world.merchant_id)) == "FB"


def test_an_expired_licence_or_contract_or_no_contract_stops_routing(
    client: TestClient, session: Session, auth_headers: Headers
) -> None:
    world = build_world(session)
    register_fb(session, licence_to=TODAY - timedelta(1))
    clerk = auth_headers("clerk", world.merchant_id)
    assert applied_funder(client, world, clerk) == "FA"  # routed around the funder with the lapsed licence
    fb = service.get_partner(session, "P-FB")
    assert not fb.routable and fb.reasons == ["无有效金融许可证"]
    assert service.funder_veto(session, ["FA", "FB"], TODAY) == {"FB": "无有效金融许可证"}
    service.add_licence(session, "P-FB", LicenceIn(kind="financial", number="L0002", valid_from=TODAY,
                                                   expires_on=TODAY + timedelta(700)))
    assert service.funder_veto(session, ["FB"], TODAY) == {}
    assert service.funder_veto(session, ["FB"], TODAY + timedelta(366)) == {"FB": "无有效合同"}
    service.set_status(session, "P-FB", "ended")
    assert service.funder_veto(session, ["FB"], TODAY) == {"FB": "尚未签约或已终止合作"}


def test_reminders_60_30_7_days_before_expiry_raised_by_the_close(session: Session) -> None:
    build_world(session)
    register_fb(session, licence_to=TODAY + timedelta(61), contract_to=TODAY + timedelta(400))
    seen: list[tuple[int, int]] = []
    for n in range(62):
        day = TODAY + timedelta(n)
        close_day(session.connection(), day)
        seen += [(n, r.days_before) for r in service.get_partner(session, "P-FB").reminders if r.raised_on == day]
    # 61 days left on the first day: 60 left on day 1, 30 on day 31, 7 on day 54 — once each.
    assert seen == [(1, 60), (31, 30), (54, 7)]


def test_registry_over_http_for_admins_readable_by_finance(
    client: TestClient, session: Session, auth_headers: Headers
) -> None:
    build_world(session)
    admin = auth_headers("admin")
    made = client.post("/api/v1/partners", json={"code": "ALIPAY", "name": "支付宝", "role": "payment_platform"},
                       headers=admin)
    assert made.status_code == 201 and made.json()["routable"] is False
    licence = {"kind": "payment", "number": "Z2004431000016", "valid_from": "2021-01-01", "expires_on": "2031-01-01"}
    assert client.post("/api/v1/partners/ALIPAY/licences", json=licence, headers=admin).status_code == 201
    contract = {"reference": "ALI-2026", "starts_on": "2026-01-01", "ends_on": "2027-12-31",
                "terms": {"fee_rate": "0.006"}}
    assert client.post("/api/v1/partners/ALIPAY/contracts", json=contract, headers=admin).status_code == 201
    done = client.put("/api/v1/partners/ALIPAY/status", json={"status": "contracted"}, headers=admin)
    assert done.status_code == 200 and done.json()["routable"] is True, done.text
    finance = auth_headers("finance")
    assert [p["code"] for p in client.get("/api/v1/partners", headers=finance).json()["items"]] == ["ALIPAY"]
    assert client.post("/api/v1/partners", json={"code": "X", "name": "X", "role": "funder"},
                       headers=finance).status_code == 403
    assert client.get("/api/v1/partners").status_code == 401
    assert client.post("/api/v1/partners/ALIPAY/licences", json={**licence, "expires_on": "2020-01-01"},
                       headers=admin).status_code == 400
    assert client.post("/api/v1/partners", json={"code": "ALIPAY", "name": "重复", "role": "funder"},
                       headers=admin).status_code == 400
    assert client.get("/api/v1/partners/NOPE", headers=admin).status_code == 404
    page = client.get("/ops/partners", headers={**finance, "Accept": "text/html"})
    assert page.status_code == 200 and "支付宝" in page.text and "支付业务许可证" in page.text
    assert "payment_platform" not in page.text and "已签约" in page.text
