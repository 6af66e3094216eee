"""Decisions on the real database: stored with inputs and facts, reproducible, velocity and the risk
list looked up from tables, policy versions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from fenqi.kit.db import utcnow
from fenqi.kit.errors import AmountFinerThanFen, Conflict, InvalidInput
from fenqi.risk import policy as policies
from fenqi.risk import service
from fenqi.risk.models import RiskDecision
from fenqi.risk.rules import DEFAULT_POLICY
from fenqi.risk.schemas import Decision, RiskInput, input_from_json, input_to_json

MakeInput = Callable[..., RiskInput]


def strict_policy(version: str) -> dict[str, object]:
    """The default policy with every score threshold 300 points higher: everyone is declined."""
    data = DEFAULT_POLICY.model_dump(mode="json")
    grades = [{**g, "min_score": g["min_score"] + 300} for g in data["grades"]]
    return {**data, "version": version, "decline_below": data["decline_below"] + 300, "grades": grades}


def test_decision_is_stored_with_inputs_facts_and_versions(session: Session, make_input: MakeInput) -> None:
    decision = service.decide(session, make_input(application_id=9001))
    assert decision.id is not None and decision.outcome == "approve"
    row = session.get(RiskDecision, decision.id)
    assert row is not None
    assert RiskInput.model_validate(row.inputs) == make_input(application_id=9001)
    assert row.facts["bureau"]["provider"] == "emulated"
    assert row.facts["velocity"] == {"id": 0, "phone": 0, "device": 0}
    assert (row.model_version, row.rules_version) == ("gc-2026.11.1", DEFAULT_POLICY.version)
    assert service.get_decision(session, decision.id) == decision
    assert service.latest_for_application(session, 9001) == decision


def test_a_stored_decision_is_reproduced_even_after_the_world_changes(
    session: Session, make_input: MakeInput
) -> None:
    decision = service.decide(session, make_input())
    # Later: a stricter policy, the shopper listed, more applications — none of it touches the record.
    policies.publish(session, strict_policy("t-strict"))
    service.add_to_list(session, kind="phone", value=make_input().phone_hash)
    assert service.decide(session, make_input()).outcome == "decline"
    replay = service.replay(session, decision.id or 0)
    assert replay.reproduced, replay.differences
    assert replay.replayed.outcome == "approve" and replay.replayed.score == decision.score


def test_replay_notices_a_tampered_record(session: Session, make_input: MakeInput) -> None:
    decision = service.decide(session, make_input())
    row = session.get(RiskDecision, decision.id)
    assert row is not None
    row.score += 5
    session.flush()
    replay = service.replay(session, decision.id or 0)
    assert not replay.reproduced and "score" in replay.differences


def test_reasons_are_stable(session: Session, make_input: MakeInput) -> None:
    weak = make_input(bank_account="overdrawn", savings="lt_5k", term=24, installment_fen=30_000, product_code=None,
                      housing="rent")
    first = service.explain(session, weak)
    for _ in range(3):
        again = service.explain(session, weak)
        assert again.decision.reasons == first.decision.reasons
        assert again.points == first.points
    # The factors that cost the most points, biggest first: the overdrawn account, then low savings.
    assert [r.code for r in first.decision.reasons] == ["S01", "S06", "S02", "S09"]


def test_velocity_counts_earlier_decisions_within_the_hour(session: Session, make_input: MakeInput) -> None:
    now = utcnow()
    inp = make_input(id_hash="velocity-id-hash-1", phone_hash="velocity-phone-1", device_imei=None)
    # An old decision outside the window does not count.
    service.decide(session, inp, now=now - timedelta(minutes=61))
    outcomes = [service.decide(session, inp, now=now + timedelta(seconds=i)).outcome for i in range(4)]
    assert outcomes[:3] != ["decline"] * 3
    last = service.get_decision(session, service.latest_for_application_hash(session, inp.id_hash))
    assert "velocity_id" in [h.code for h in last.rules_fired]
    assert outcomes[3] == "decline"


def test_a_re_decision_of_the_same_application_is_not_velocity(session: Session, make_input: MakeInput) -> None:
    inp = make_input(id_hash="velocity-id-hash-2", phone_hash="velocity-phone-2", application_id=77)
    for _ in range(5):
        decision = service.decide(session, inp)
    assert not [h for h in decision.rules_fired if h.code.startswith("velocity")]


def test_device_velocity_refers(session: Session, make_input: MakeInput) -> None:
    imei = "490154203237518"
    for n in range(2):
        service.decide(session, make_input(id_hash=f"device-shopper-{n}", phone_hash=f"device-phone-{n}",
                                           device_imei=imei))
    third = service.decide(session, make_input(device_imei=imei))
    assert third.outcome == "refer" and third.rules_fired[0].code == "velocity_device"


@pytest.mark.parametrize("kind", ["id", "phone", "device"])
def test_risk_list_from_the_table(session: Session, make_input: MakeInput, kind: str) -> None:
    inp = make_input()
    value = {"id": inp.id_hash, "phone": inp.phone_hash, "device": inp.device_imei or ""}[kind]
    entry = service.add_to_list(session, kind=kind, value=value, reason="fraud ring")
    decision = service.decide(session, inp)
    assert decision.outcome == "decline"
    assert decision.rules_fired[0].detail == {"listed": [kind]}
    service.remove_from_list(session, entry.id)
    assert service.decide(session, make_input(id_hash="another-clean-id-1")).outcome != "decline"


def test_risk_list_refuses_bad_values(session: Session) -> None:
    with pytest.raises(InvalidInput):
        service.add_to_list(session, kind="device", value="not-an-imei")
    with pytest.raises(InvalidInput):
        service.add_to_list(session, kind="email", value="x" * 20)


def test_policy_versions(session: Session, make_input: MakeInput) -> None:
    assert policies.active_policy(session) == DEFAULT_POLICY  # nothing stored: the built-in policy
    policies.ensure_default(session)
    strict = strict_policy("t-2")
    policies.publish(session, strict, note="tighter")
    decision = service.decide(session, make_input())
    assert decision.rules_version == "t-2" and decision.outcome == "decline"
    with pytest.raises(Conflict):
        policies.publish(session, strict)
    policies.activate(session, DEFAULT_POLICY.version)
    assert service.decide(session, make_input(id_hash="another-clean-id-2")).rules_version == DEFAULT_POLICY.version
    with pytest.raises(InvalidInput):
        policies.publish(session, {**strict, "version": "t-3", "decline_below": "x"})


def test_bureau_failure_refers(session: Session, make_input: MakeInput, monkeypatch: pytest.MonkeyPatch) -> None:
    class Down:
        name = "down"

        def report(self, id_hash: str) -> None:
            raise TimeoutError

    monkeypatch.setattr(service, "_provider", lambda: Down())
    decision = service.decide(session, make_input())
    assert decision.outcome == "refer" and decision.bureau_provider is None
    assert service.replay(session, decision.id or 0).reproduced


def test_json_form_round_trips_in_yuan(make_input: MakeInput) -> None:
    inp = make_input()
    data = input_to_json(inp)
    assert data["monthly_income"] == "12000.00" and "monthly_income_fen" not in data
    assert input_from_json(data) == inp
    with pytest.raises(AmountFinerThanFen, match="financed"):
        input_from_json({**data, "financed": "12.345"})
    with pytest.raises(InvalidInput, match="age"):
        input_from_json({**data, "age": "old"})


def test_velocity_window_follows_the_policy(session: Session, make_input: MakeInput) -> None:
    now = utcnow()
    inp = make_input(id_hash="window-id-hash-1", phone_hash="window-phone-1", device_imei=None)
    for minutes in (45, 44, 43):
        service.decide(session, inp, now=now - timedelta(minutes=minutes))
    assert service.explain(session, inp, now=now).facts.velocity["id"] == 3  # 60-minute window
    policies.publish(session, {**DEFAULT_POLICY.model_dump(mode="json"), "version": "t-window",
                               "velocity_window_minutes": 30})
    assert service.explain(session, inp, now=now).facts.velocity["id"] == 0
    assert service.explain(session, inp, now=now).decision.outcome == "approve"


def test_same_idempotency_key_at_once_gives_the_stored_decision(
    session: Session, make_input: MakeInput, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = service.decide(session, make_input(), idempotency_key="7:k")
    real = service._by_idempotency_key
    calls: list[str] = []

    def racing(s: Session, key: str) -> Decision | None:
        # The first look finds nothing, as if the other request had not committed yet; the insert then
        # meets the unique key, and the second look finds the other request's decision.
        calls.append(key)
        return None if len(calls) == 1 else real(s, key)

    monkeypatch.setattr(service, "_by_idempotency_key", racing)
    again = service.decide(session, make_input(), idempotency_key="7:k")
    assert again.id == first.id and len(calls) == 2
    # The transaction is still usable after the failed insert.
    assert service.decide(session, make_input(phone_hash="after-race-phone"), idempotency_key="7:other").id != first.id
