"""No page shows a full ID number (nor a full bank card number) to a role that may not see it.

Walks every GET route of the app (pages and API) as every role, with real ids filled into the paths (an
application, its loan, its payment order, its risk decision), after a sale whose shopper we know. The
full ID number may appear only on the risk officer's explicit, audited reveal (a POST).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.api import create_app
from fenqi.identity.roles import ROLES
from tests.origination.world import World, clean_id_number
from tests.web_console.helpers import sell

Headers = Callable[..., dict[str, str]]
SKIP_PREFIXES = ("/docs", "/redoc", "/openapi.json", "/static", "/_emulator")
_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def get_paths(values: dict[str, str]) -> list[str]:
    paths = []
    for route in iter_route_contexts(create_app().routes):
        methods = getattr(route, "methods", None) or set()
        if route.path and "GET" in methods and not route.path.startswith(SKIP_PREFIXES):
            names = _PARAM.findall(route.path)
            if all(n in values for n in names):
                paths.append(_PARAM.sub(lambda m: values[m.group(1)], route.path))
    return paths


def test_no_get_route_shows_a_full_id_number(
    client: TestClient, session: Session, world: World, auth_headers: Headers
) -> None:
    app = sell(session, world)
    number = clean_id_number(date(1990, 3, 7))
    values = {"application_id": str(app.id), "loan_id": str(app.loan_id), "out_trade_no": str(app.payment_order),
              "decision_id": str(app.decision_id), "code": world.sku, "imei": str(app.device_imei),
              "merchant_id": str(world.merchant_id), "page": "1"}
    paths = get_paths(values)
    assert {f"/ops/loans/{app.loan_id}", f"/merchant/applications/{app.id}",
            f"/api/v1/applications/{app.id}"} <= set(paths)
    seen: list[str] = []
    checked = 0
    for role in ROLES:
        headers = auth_headers(role, world.merchant_id if role in ("clerk", "merchant_owner") else None)
        for path in paths:
            r = client.get(path, headers=headers)
            checked += r.status_code == 200
            body = r.content.decode("utf-8", "replace")
            if number in body or number.lower() in body:
                seen.append(f"{role} GET {path}")
            if "6222021234567890128" in body:
                seen.append(f"{role} GET {path} (bank card)")
    assert not seen, f"full ID number or bank card shown: {seen}"
    assert checked > 50  # the walk really looked at pages, not only at refusals


def test_staff_pages_mask_every_personal_field(client: TestClient, session: Session, world: World,
                                               auth_headers: Headers) -> None:
    app = sell(session, world)
    secrets = (clean_id_number(date(1990, 3, 7)), "13812345678", "6222021234567890128", "张三丰")
    pages = [f"/merchant/applications/{app.id}", "/merchant/applications", "/merchant/sales", "/merchant",
             f"/ops/loans/{app.loan_id}", "/ops/loans", "/ops/reviews", "/ops/overdue"]
    for role in ("clerk", "merchant_owner", "risk_officer", "collector", "finance", "admin"):
        headers = auth_headers(role, world.merchant_id if role in ("clerk", "merchant_owner") else None)
        for page in pages:
            body = client.get(page, headers=headers).text
            for secret in secrets:
                assert secret not in body, (role, page, secret[:3])
