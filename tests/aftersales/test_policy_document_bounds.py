"""A policy document's counts (days, months, repairs) are whole numbers: JSON integers or ASCII digits. A number
JSON reads as infinity, a boolean or full-width digits is refused with the usual error body, never a 500
and never taken as another number."""

from __future__ import annotations

from typing import Any

import pytest

BODIES = [
    '{"merchant_id": null, "rules": {"no_reason_return_days": 1e400}}',
    '{"merchant_id": null, "rules": {"warranty_months": {"handset": 1e400}}}',
    '{"merchant_id": null, "rules": {"warranty_months": {"handset": -1e400}}}',
    '{"merchant_id": null, "rules": {"no_reason_return_days": NaN}}',
    '{"merchant_id": null, "rules": {"no_reason_return_days": true}}',
    '{"merchant_id": null, "rules": {"fault_return_days": "\\uff17"}}',
    '{"merchant_id": null, "rules": {"loaner_after_days": 7.5}}',
    '{"merchant_id": null, "rules": {"repair_deadline_days": "1e3"}}',
    '{"merchant_id": null, "rules": {"repair_deadline_days": 10000000000000000000000000000000000000000}}',
]


@pytest.mark.parametrize("body", BODIES)
def test_a_policy_count_that_is_not_a_whole_number_is_refused(client: Any, auth_headers: Any, body: str) -> None:
    r = client.post("/api/v1/aftersales/policies", content=body.encode(),
                    headers={**auth_headers("admin"), "Idempotency-Key": "policy-bounds",
                             "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_aftersales_policy"
    assert client.get("/api/v1/aftersales/policy?merchant_id=1",
                      headers=auth_headers("finance")).json()["version"] == 0  # nothing was written


def test_whole_numbers_as_integers_or_digit_strings_are_taken(client: Any, auth_headers: Any) -> None:
    r = client.post("/api/v1/aftersales/policies", headers={**auth_headers("admin"), "Idempotency-Key": "ok"},
                    json={"merchant_id": None, "rules": {"no_reason_return_days": "10", "fault_return_days": 7,
                                                         "warranty_months": {"handset": "24"}}})
    assert r.status_code == 200, r.text
    rules = r.json()["rules"]
    assert (rules["no_reason_return_days"], rules["fault_return_days"]) == (10, 7)
    assert rules["warranty_months"]["handset"] == 24
