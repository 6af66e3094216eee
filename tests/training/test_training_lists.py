"""Operations' after-sales lists are the real business: a training store's practice cases and complaints
appear there only in the training view (`?training=true`, the page's `?view=training`), while the training
store's own staff still see theirs."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_merchant_by_code
from fenqi.training import seed as training_seed
from tests.origination.test_signing import approved, contract, sign
from tests.origination.world import World, build_world
from tests.training.test_training_isolation import practice_day

Headers = Callable[..., dict[str, str]]


def _open_case(client: TestClient, who: dict[str, str], imei: str) -> int:
    got = client.post("/api/v1/aftersales/cases", json={"imei": imei, "requested": "repair", "reason": "fault",
                                                          "description": "屏幕闪烁"},
                      headers={**who, "Idempotency-Key": uuid.uuid4().hex})
    assert got.status_code == 201, got.text
    return int(got.json()["id"])


def test_operations_lists_leave_out_practice_unless_asked(
    client: TestClient, session: Session, auth_headers: Headers
) -> None:
    world: World = build_world(session, suffix="TLS")
    training_seed.seed(session)
    clerk = auth_headers("clerk", world.merchant_id)
    real_app = approved(client, world, clerk)
    assert sign(client, real_app, clerk, contract(client, real_app, clerk)["sha256"],
                world.devices[0]).status_code == 200
    real = _open_case(client, clerk, world.devices[0])
    trainee = auth_headers("clerk", get_merchant_by_code(session, training_seed.MERCHANT[0]).id)
    done = practice_day(client, session, trainee)
    practice = _open_case(client, trainee, done["imei"])

    for role in ("finance", "admin", "collector"):
        ops = auth_headers(role)
        ids = [c["id"] for c in client.get("/api/v1/aftersales/cases", headers=ops).json()["cases"]]
        assert real in ids and practice not in ids, (role, ids)
        asked = client.get("/api/v1/aftersales/cases?training=true", headers=ops).json()["cases"]
        assert [c["id"] for c in asked] == [practice], role
    # The training store's own staff keep seeing their practice (and only theirs).
    mine = [c["id"] for c in client.get("/api/v1/aftersales/cases", headers=trainee).json()["cases"]]
    assert mine == [practice]

    ops = auth_headers("finance")
    page = client.get("/ops/aftersales", headers=ops)
    assert page.status_code == 200
    assert world.devices[0] in page.text and done["imei"] not in page.text
    assert "查看培训门店的练习" in page.text
    training_page = client.get("/ops/aftersales?view=training", headers=ops)
    assert training_page.status_code == 200
    assert done["imei"] in training_page.text and world.devices[0] not in training_page.text
    assert "培训门店练习" in training_page.text
