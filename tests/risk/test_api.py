"""Risk officers' HTTP API: decisions, the manual review queue, rules versions, the risk list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.identity.models import AuditEntry
from fenqi.risk import service
from fenqi.risk.rules import DEFAULT_POLICY
from fenqi.risk.schemas import Decision, RiskInput, input_to_json

Headers = Callable[..., dict[str, str]]
MakeInput = Callable[..., RiskInput]


def referred(session: Session, make_input: MakeInput, n: int = 0) -> Decision:
    """A decision referred to manual review (installment at 40% of income)."""
    decision = service.decide(session, make_input(
        id_hash=f"review-id-{n:04d}", phone_hash=f"review-phone-{n:04d}", device_imei=None, installment_fen=480_000,
    ))
    assert decision.outcome == "refer" and decision.review_status == "pending"
    return decision


def test_only_risk_officers_and_admins(client: TestClient, auth_headers: Headers, make_input: MakeInput) -> None:
    body = input_to_json(make_input())
    assert client.post("/api/v1/risk/decisions", json=body).status_code == 401
    assert client.post("/api/v1/risk/decisions", json=body, headers=auth_headers("clerk", 1)).status_code == 403
    assert client.get("/api/v1/risk/reviews", headers=auth_headers("shopper")).status_code == 403
    assert client.get("/api/v1/risk/rules", headers=auth_headers("admin")).status_code == 200


def test_decide_explain_read_and_replay_over_http(
    client: TestClient, auth_headers: Headers, make_input: MakeInput
) -> None:
    officer = auth_headers("risk_officer")
    body = input_to_json(make_input())
    made = client.post("/api/v1/risk/decisions", json=body, headers=officer)
    assert made.status_code == 200, made.text
    decision = made.json()
    assert decision["outcome"] == "approve" and decision["credit_limit"] == "30000.00"
    assert decision["rules_version"] == DEFAULT_POLICY.version and decision["model_version"] == "gc-2026.11.1"
    assert client.get(f"/api/v1/risk/decisions/{decision['id']}", headers=officer).json() == decision
    replay = client.post(f"/api/v1/risk/decisions/{decision['id']}/replay", headers=officer).json()
    assert replay["reproduced"] is True and replay["differences"] == []
    explained = client.post("/api/v1/risk/decisions/explain", json=body, headers=officer).json()
    assert explained["id"] is None and set(explained["points"]) == {f["name"] for f in
                                                                    client.get("/api/v1/risk/model",
                                                                               headers=officer).json()["features"]}


def test_student_refusal_in_the_callers_language(
    client: TestClient, auth_headers: Headers, make_input: MakeInput
) -> None:
    body = input_to_json(make_input(is_full_time_student=True, age=19))
    decision = client.post("/api/v1/risk/decisions", json=body, headers=auth_headers("risk_officer")).json()
    assert decision["outcome"] == "decline"
    assert decision["reasons"][0] == {
        "code": "full_time_student", "zh": "不向全日制在校学生提供分期",
        "en": "No installment credit for full-time students",
    }


def test_bad_input_is_a_domain_error_not_a_500(
    client: TestClient, auth_headers: Headers, make_input: MakeInput
) -> None:
    body: dict[str, Any] = {**input_to_json(make_input()), "financed": "-5.00"}
    response = client.post("/api/v1/risk/decisions", json=body, headers={**auth_headers("risk_officer"),
                                                                         "Accept-Language": "en"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_input" and "financed" in response.json()["message"]
    assert client.get("/api/v1/risk/decisions/999999", headers=auth_headers("risk_officer")).status_code == 404


def test_review_queue_approve_and_decline_with_notes(
    client: TestClient, session: Session, auth_headers: Headers, make_input: MakeInput
) -> None:
    first, second = referred(session, make_input, 1), referred(session, make_input, 2)
    officer = auth_headers("risk_officer")
    queue = client.get("/api/v1/risk/reviews", headers=officer).json()["items"]
    ids = [d["id"] for d in queue]
    assert ids.index(first.id) < ids.index(second.id)  # oldest first

    no_note = client.post(f"/api/v1/risk/reviews/{first.id}", json={"verdict": "approve", "note": ""}, headers=officer)
    assert no_note.status_code == 422
    approved = client.post(f"/api/v1/risk/reviews/{first.id}",
                           json={"verdict": "approve", "note": "工资流水已核实 / payslips checked"}, headers=officer)
    assert approved.status_code == 200, approved.text
    assert approved.json()["final_outcome"] == "approve" and approved.json()["outcome"] == "refer"
    declined = client.post(f"/api/v1/risk/reviews/{second.id}", json={"verdict": "decline", "note": "收入无法核实"},
                           headers=officer).json()
    assert declined["final_outcome"] == "decline" and declined["review_note"] == "收入无法核实"

    again = client.post(f"/api/v1/risk/reviews/{first.id}", json={"verdict": "decline", "note": "x"}, headers=officer)
    assert again.status_code == 409 and again.json()["error"] == "risk_review_not_pending"
    pending = [d["id"] for d in client.get("/api/v1/risk/reviews", headers=officer).json()["items"]]
    assert first.id not in pending and second.id not in pending
    done = client.get("/api/v1/risk/reviews?status=approved", headers=officer).json()["items"]
    assert [d["id"] for d in done] == [first.id]
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.subject.like("risk_decision:%"))))
    assert {"risk.review.approved", "risk.review.declined"} <= actions
    # The reviewed decision still replays as the engine made it.
    assert service.replay(session, first.id or 0).reproduced


def test_review_handlers_are_told(session: Session, make_input: MakeInput) -> None:
    told: list[tuple[int | None, str]] = []

    def handler(_: Session, decision: Decision) -> None:
        told.append((decision.id, decision.final_outcome))

    service.register_review_handler(handler)
    try:
        decision = referred(session, make_input, 3)
        service.review(session, decision.id or 0, approve=False, note="declined", reviewer_id=None)
    finally:
        service._review_handlers.remove(handler)
    assert told == [(decision.id, "decline")]


def test_publish_and_activate_rules_over_http(client: TestClient, auth_headers: Headers) -> None:
    officer = auth_headers("risk_officer")
    config = DEFAULT_POLICY.model_dump(mode="json")
    config["version"] = "2026.12.1"
    config["rules"] = [{**r, "params": {"min": 20, "max": 60}} if r["kind"] == "age_range" else r
                       for r in config["rules"]]
    created = client.post("/api/v1/risk/rules", json={"config": config, "note": "raise the minimum age"},
                          headers=officer)
    assert created.status_code == 201, created.text
    rules = client.get("/api/v1/risk/rules", headers=officer).json()
    assert rules["active"]["version"] == "2026.12.1"
    assert client.post("/api/v1/risk/rules", json={"config": config}, headers=officer).status_code == 409
    bad = client.post("/api/v1/risk/rules", json={"config": {**config, "version": "x", "rules": [
        {"code": "x", "kind": "astrology", "severity": "hard"}]}}, headers=officer)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_input"
    assert client.post("/api/v1/risk/rules/nope/activate", headers=officer).status_code == 404


def test_risk_list_over_http(client: TestClient, auth_headers: Headers, make_input: MakeInput) -> None:
    officer = auth_headers("risk_officer")
    inp = make_input(id_hash="listed-over-http-1")
    entry = client.post("/api/v1/risk/list", json={"kind": "id", "value": inp.id_hash, "reason": "identity theft"},
                        headers=officer)
    assert entry.status_code == 201
    decision = client.post("/api/v1/risk/decisions", json=input_to_json(inp), headers=officer).json()
    assert decision["outcome"] == "decline" and decision["reasons"][0]["code"] == "blacklisted"
    assert client.delete(f"/api/v1/risk/list/{entry.json()['id']}", headers=officer).status_code == 204
    assert client.get("/api/v1/risk/list", headers=officer).json()["items"] == []


def test_stats_count_outcomes_and_rules(
    client: TestClient, session: Session, auth_headers: Headers, make_input: MakeInput
) -> None:
    service.decide(session, make_input())
    service.decide(session, make_input(age=17, phone_hash="stats-phone-2"))
    referred(session, make_input, 9)
    stats = client.get("/api/v1/risk/stats?hours=1", headers=auth_headers("risk_officer")).json()
    assert stats["decisions"] == 3
    assert stats["outcomes"] == {"approve": 1, "decline": 1, "refer": 1}
    assert stats["approval_rate"] == "0.3333" and stats["pending_reviews"] == 1
    assert stats["rules_fired"] == {"age_out_of_range": 1, "installment_to_income_review": 1}


def test_idempotency_key_returns_the_same_decision(
    client: TestClient, session: Session, auth_headers: Headers, make_input: MakeInput
) -> None:
    officer = {**auth_headers("risk_officer"), "Idempotency-Key": "retry-1"}
    body = input_to_json(make_input())
    first = client.post("/api/v1/risk/decisions", json=body, headers=officer).json()
    again = client.post("/api/v1/risk/decisions", json=body, headers=officer).json()
    assert again == first
    other = client.post("/api/v1/risk/decisions", json=body, headers={**officer, "Idempotency-Key": "retry-2"}).json()
    assert other["id"] != first["id"]
    # Keys are per user: another officer's "retry-1" is a new decision.
    someone = client.post("/api/v1/risk/decisions", json=body,
                          headers={**auth_headers("risk_officer"), "Idempotency-Key": "retry-1"}).json()
    assert someone["id"] != first["id"]


def test_an_idempotency_key_is_bound_to_the_inputs(
    client: TestClient, session: Session, auth_headers: Headers, make_input: MakeInput
) -> None:
    officer = {**auth_headers("risk_officer"), "Idempotency-Key": "bound-1"}
    body = input_to_json(make_input())
    first = client.post("/api/v1/risk/decisions", json=body, headers=officer)
    assert first.status_code == 200, first.text
    # Other inputs under the same key: refused, not answered with the first decision.
    changed = client.post("/api/v1/risk/decisions", json=input_to_json(make_input(age=17)), headers=officer)
    assert changed.status_code == 409 and changed.json()["error"] == "idempotency_key_reused", changed.text
    assert "内容不同" in changed.json()["message"] and str(first.json()["id"]) not in changed.text
    english = client.post("/api/v1/risk/decisions", json=input_to_json(make_input(age=17)),
                          headers={**officer, "Accept-Language": "en"})
    assert english.status_code == 409 and "different body" in english.json()["message"]
    # The first request again still gets its decision.
    assert client.post("/api/v1/risk/decisions", json=body, headers=officer).json() == first.json()
