"""Credit decisions: look up the facts (bureau, risk list, velocity), evaluate, store; re-run a stored
decision; the manual review queue; the risk list.

Services take a Session and never commit; the request or job boundary does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Boolean, Table, bindparam, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fenqi.identity.service import audit
from fenqi.kit.db import UtcDateTime, utcnow
from fenqi.kit.errors import Conflict, DomainError, InvalidInput, NotFound
from fenqi.kit.log import log
from fenqi.risk import policy as policies
from fenqi.risk import scorecard
from fenqi.risk.bureau import BureauProvider, BureauReport, EmulatedBureau, get_provider
from fenqi.risk.engine import Evaluation, evaluate
from fenqi.risk.models import RiskDecision, RiskListEntry
from fenqi.risk.rules import DEFAULT_POLICY, Facts, Policy
from fenqi.risk.schemas import AllowedPlan, Decision, Reason, RiskInput, RuleHit

LIST_KINDS = ("id", "phone", "device")


class DecisionNotFound(NotFound):
    code = "risk_decision_not_found"
    zh = "未找到风控决策：{detail}"
    en = "No credit decision {detail}"


class NotPendingReview(Conflict):
    code = "risk_review_not_pending"
    zh = "该决策不在待人工审核状态"
    en = "This decision is not waiting for a manual review"


# --- facts -------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _provider() -> BureauProvider:
    return get_provider()


def bureau_report(id_hash: str, provider: BureauProvider | None = None) -> BureauReport | None:
    """The bureau's report, or None when it cannot answer (the decision is then referred, not failed)."""
    try:
        return (provider or _provider()).report(id_hash)
    except Exception as exc:  # any provider failure: a person decides instead
        log.warning("risk.bureau.unavailable", error=type(exc).__name__)
        return None


# Written once as SQL (portable between SQLite and PostgreSQL): building the same query from
# expressions on every decision cost more CPU than running it. Each count is an index range scan.
# A training store's practice decisions (培训模式) count for nobody's velocity.
_VELOCITY_SQL = """
  (SELECT count(*) FROM risk_decision WHERE id_hash = :id_hash AND decided_at >= :since
     AND (application_id IS NULL OR application_id <> :application_id) AND training = false),
  (SELECT count(*) FROM risk_decision WHERE phone_hash = :phone_hash AND decided_at >= :since
     AND (application_id IS NULL OR application_id <> :application_id) AND training = false),
  (SELECT count(*) FROM risk_decision WHERE device_imei = :device AND decided_at >= :since
     AND (application_id IS NULL OR application_id <> :application_id) AND training = false)
"""
_FACTS = text("""SELECT
  (SELECT config FROM risk_policy WHERE active = :yes LIMIT 1),
  (SELECT count(*) FROM risk_list_entry WHERE kind = 'id' AND value = :id_hash),
  (SELECT count(*) FROM risk_list_entry WHERE kind = 'phone' AND value = :phone_hash),
  (SELECT count(*) FROM risk_list_entry WHERE kind = 'device' AND value = :device),
""" + _VELOCITY_SQL).bindparams(bindparam("since", type_=UtcDateTime()), bindparam("yes", type_=Boolean()))
_VELOCITY = text("SELECT " + _VELOCITY_SQL).bindparams(bindparam("since", type_=UtcDateTime()))

# The velocity window of the policy last seen: the facts are read in one round trip with it, and read
# again only in the rare case that the active policy turns out to use another window.
_window_hint = [DEFAULT_POLICY.velocity_window_minutes]


def _params(inp: RiskInput, since: datetime) -> dict[str, Any]:
    return {
        "id_hash": inp.id_hash, "phone_hash": inp.phone_hash,
        # No device: an empty IMEI matches nothing. No application: ids are positive, so -1 excludes none.
        "device": inp.device_imei or "", "application_id": inp.application_id or -1, "since": since,
    }


_ASK = BureauReport(provider="ask", credit_history="no_credit")  # gather's default: ask the bureau


def gather(
    session: Session, inp: RiskInput, now: datetime, *, bureau: BureauReport | None = _ASK
) -> tuple[Policy, Facts]:
    """The active policy and the facts for a decision, in one query: the risk list and velocity. The
    bureau is asked unless its report is given (a trial of other plans reuses the decision's report)."""
    assumed = _window_hint[0]
    row = session.connection().execute(_FACTS, {**_params(inp, now - timedelta(minutes=assumed)), "yes": True}).one()
    config, listed_counts, velocity_counts = row[0], row[1:4], row[4:7]
    if isinstance(config, str):  # SQLite hands back JSON as text in a raw query
        config = json.loads(config)
    policy = DEFAULT_POLICY if config is None else policies.parse(config)
    if policy.velocity_window_minutes != assumed:
        _window_hint[0] = policy.velocity_window_minutes
        since = now - timedelta(minutes=policy.velocity_window_minutes)
        velocity_counts = session.connection().execute(_VELOCITY, _params(inp, since)).one()
    facts = Facts(
        # Practice asks the local emulated bureau, never a real one.
        bureau=(bureau_report(inp.id_hash, EmulatedBureau() if inp.training else None) if bureau is _ASK
                else bureau),
        blacklist=[kind for kind, n in zip(LIST_KINDS, listed_counts, strict=True) if n],
        velocity={key: int(n) for key, n in zip(LIST_KINDS, velocity_counts, strict=True)},
    )
    return policy, facts


# --- decisions ---------------------------------------------------------------------------------------


def decide(
    session: Session, inp: RiskInput, *, now: datetime | None = None, idempotency_key: str | None = None
) -> Decision:
    """Decide one application and store the decision (with its inputs and facts). Does not commit.

    With an idempotency key, a repeated call returns the decision the first one stored."""
    if idempotency_key is not None:
        earlier = _by_idempotency_key(session, idempotency_key)
        if earlier is not None:
            return earlier
        try:
            with session.begin_nested():
                return _decide(session, inp, now or utcnow(), idempotency_key)
        except IntegrityError:
            # The same key arrived twice at once: the other request stored the decision.
            earlier = _by_idempotency_key(session, idempotency_key)
            if earlier is None:
                raise
            return earlier
    return _decide(session, inp, now or utcnow(), None)


def _by_idempotency_key(session: Session, key: str) -> Decision | None:
    row = session.scalar(select(RiskDecision).where(RiskDecision.idempotency_key == key))
    return to_decision(row) if row is not None else None


def _decide(session: Session, inp: RiskInput, now: datetime, idempotency_key: str | None) -> Decision:
    policy, facts = gather(session, inp, now)
    card = scorecard.load()
    result = evaluate(inp, facts, policy, card)
    review_status = "pending" if result.outcome == "refer" and not inp.training else "none"
    decision_id = session.connection().execute(_INSERT, {
        "decided_at": now, "application_id": inp.application_id, "merchant_id": inp.merchant_id,
        "training": inp.training,
        "id_hash": inp.id_hash, "phone_hash": inp.phone_hash, "device_imei": inp.device_imei,
        "outcome": result.outcome, "score": result.score,
        "probability_of_default": str(result.probability_of_default),
        "grade": result.grade, "credit_limit_fen": result.credit_limit_fen,
        "allowed_plans": [p.model_dump() for p in result.allowed_plans],
        "reasons": [r.model_dump() for r in result.reasons],
        "rules_fired": [h.model_dump(mode="json") for h in result.rules_fired],
        "points": result.points, "inputs": inp.model_dump(mode="json"), "facts": facts.model_dump(mode="json"),
        "model_version": card.version, "rules_version": policy.version,
        "bureau_provider": facts.bureau.provider if facts.bureau else None,
        "review_status": review_status, "review_note": "", "idempotency_key": idempotency_key,
    }).scalar_one()
    decision = _from_evaluation(result, card.version, policy.version, facts, now)
    return decision.model_copy(update={
        "id": decision_id, "application_id": inp.application_id, "review_status": review_status,
    })


# A plain INSERT … RETURNING built once: the unit of work adds nothing for an insert-only record.
_DECISIONS = cast(Table, RiskDecision.__table__)
_INSERT = insert(_DECISIONS).returning(_DECISIONS.c.id)


def to_decision(row: RiskDecision) -> Decision:
    return Decision(
        id=row.id, application_id=row.application_id, outcome=row.outcome,
        score=row.score, probability_of_default=row.probability_of_default,
        grade=row.grade,
        credit_limit_fen=row.credit_limit_fen,
        allowed_plans=[AllowedPlan.model_validate(p) for p in row.allowed_plans],
        reasons=[Reason.model_validate(r) for r in row.reasons],
        rules_fired=[RuleHit.model_validate(h) for h in row.rules_fired],
        model_version=row.model_version, rules_version=row.rules_version, bureau_provider=row.bureau_provider,
        review_status=row.review_status,
        review_note=row.review_note, decided_at=row.decided_at,
    )


def _row(session: Session, decision_id: int) -> RiskDecision:
    row = session.get(RiskDecision, decision_id)
    if row is None:
        raise DecisionNotFound(str(decision_id))
    return row


def get_decision(session: Session, decision_id: int) -> Decision:
    return to_decision(_row(session, decision_id))


def decision_points(session: Session, decision_id: int) -> dict[str, Any]:
    """The scorecard's points of a decision by feature, as recorded (the review page shows its working)."""
    return _row(session, decision_id).points


def latest_for_application(session: Session, application_id: int) -> Decision | None:
    row = session.scalar(
        select(RiskDecision).where(RiskDecision.application_id == application_id).order_by(RiskDecision.id.desc())
    )
    return to_decision(row) if row is not None else None


def requested_plan(session: Session, decision_id: int) -> tuple[str | None, int, int, int] | None:
    """The plan a decision was asked about: product, term, financed and largest installment (fen)."""
    inputs = session.scalar(select(RiskDecision.inputs).where(RiskDecision.id == decision_id))
    if inputs is None:
        return None
    return (inputs.get("product_code"), int(inputs["term"]), int(inputs["financed_fen"]),
            int(inputs["installment_fen"]))


def latest_for_application_hash(session: Session, id_hash: str) -> int:
    """The id of the newest decision for an ID hash (risk officers look a shopper up by it)."""
    found = session.scalar(
        select(RiskDecision.id).where(RiskDecision.id_hash == id_hash).order_by(RiskDecision.id.desc()).limit(1)
    )
    if found is None:
        raise DecisionNotFound(id_hash[:8])
    return found


@dataclass(frozen=True, slots=True)
class Explanation:
    """A decision with the working shown: the features' bins and points."""

    decision: Decision
    points: dict[str, int]
    bins: dict[str, str]
    facts: Facts


def explain(session: Session, inp: RiskInput, *, now: datetime | None = None) -> Explanation:
    """Evaluate without storing (the CLI's `score` and risk officers' what-if)."""
    now = now or utcnow()
    policy, facts = gather(session, inp, now)
    card = scorecard.load()
    result = evaluate(inp, facts, policy, card)
    return Explanation(_from_evaluation(result, card.version, policy.version, facts, now), result.points,
                       result.bins, facts)


def _from_evaluation(result: Evaluation, model: str, rules: str, facts: Facts, now: datetime) -> Decision:
    return Decision(
        outcome=result.outcome, score=result.score, probability_of_default=str(result.probability_of_default),
        grade=result.grade, credit_limit_fen=result.credit_limit_fen, allowed_plans=result.allowed_plans,
        reasons=result.reasons, rules_fired=result.rules_fired, model_version=model, rules_version=rules,
        bureau_provider=facts.bureau.provider if facts.bureau else None, decided_at=now,
    )


@dataclass(frozen=True, slots=True)
class Replay:
    stored: Decision
    replayed: Decision
    differences: list[str]

    @property
    def reproduced(self) -> bool:
        return not self.differences


_COMPARED = ("outcome", "score", "probability_of_default", "grade", "credit_limit_fen", "allowed_plans", "reasons",
             "rules_fired")


def replay(session: Session, decision_id: int) -> Replay:
    """Make a stored decision again from its stored input and facts, with the policy and model versions
    it names, and say what (if anything) came out differently."""
    row = _row(session, decision_id)
    stored = to_decision(row)
    facts = Facts.model_validate(row.facts)
    result = evaluate(
        RiskInput.model_validate(row.inputs), facts, policies.policy_version(session, row.rules_version),
        scorecard.load(row.model_version),
    )
    again = _from_evaluation(result, row.model_version, row.rules_version, facts, row.decided_at)
    differences = [f for f in _COMPARED if getattr(stored, f) != getattr(again, f)]
    if result.points != row.points:
        differences.append("points")
    return Replay(stored, again, differences)


# --- manual review -----------------------------------------------------------------------------------

ReviewHandler = Callable[[Session, Decision], None]
_review_handlers: list[ReviewHandler] = []


_wired = False


class WiringMissing(RuntimeError):
    """A review was decided in a process where `fenqi.wiring.install()` never ran: nobody would react."""


def register_review_handler(handler: ReviewHandler) -> None:
    """Register `handler(session, decision)` to run when a referred decision is approved or declined
    (origination uses it to move the application on, without risk importing origination). Called by
    `fenqi.wiring.install()` at start-up."""
    global _wired
    if handler not in _review_handlers:
        _review_handlers.append(handler)
    _wired = True


def review_queue(session: Session, *, status: str = "pending", limit: int = 50, offset: int = 0) -> list[Decision]:
    if status not in ("pending", "approved", "declined"):
        raise InvalidInput.saying(f"未知的审核状态 {status}（pending | approved | declined）",
                                  f"unknown review status {status} (pending | approved | declined)")
    order = RiskDecision.decided_at.asc() if status == "pending" else RiskDecision.reviewed_at.desc()
    rows = session.scalars(
        select(RiskDecision).where(RiskDecision.review_status == status).order_by(order, RiskDecision.id)
        .limit(min(max(limit, 1), 200)).offset(max(offset, 0))
    )
    return [to_decision(r) for r in rows]


def review(session: Session, decision_id: int, *, approve: bool, note: str, reviewer_id: int | None) -> Decision:
    """A risk officer's verdict on a referred decision; the note is required and kept with it."""
    note = note.strip()
    if not note:
        raise InvalidInput("note", zh="请填写审批意见", en="Write a note on the decision")
    # Locked so that two officers cannot both decide the same case.
    row = session.scalar(select(RiskDecision).where(RiskDecision.id == decision_id).with_for_update())
    if row is None:
        raise DecisionNotFound(str(decision_id))
    if row.review_status != "pending":
        raise NotPendingReview()
    row.review_status = "approved" if approve else "declined"
    row.review_note = note[:2000]
    row.reviewed_by = reviewer_id
    row.reviewed_at = utcnow()
    session.flush()
    audit_action(session, reviewer_id, f"risk.review.{row.review_status}", f"risk_decision:{row.id}")
    decision = to_decision(row)
    if not _wired:
        raise WiringMissing("fenqi.wiring.install() was not called in this process")
    for handler in _review_handlers:
        handler(session, decision)
    return decision


def audit_action(session: Session, actor: int | None, action: str, subject: str, detail: str = "") -> None:
    audit(session, actor_user_id=actor, action=action, subject=subject, detail=detail)


# --- the risk list -----------------------------------------------------------------------------------


def add_to_list(session: Session, *, kind: str, value: str, reason: str = "", actor_user_id: int | None = None
                ) -> RiskListEntry:
    """List an identifier: kind `id` or `phone` take the blind-index hash, `device` the IMEI."""
    if kind not in LIST_KINDS:
        raise InvalidInput.saying(f"未知的名单类型 {kind}", f"unknown list kind {kind}")
    value = value.strip()
    valid = value.isdigit() and 14 <= len(value) <= 20 if kind == "device" else 8 <= len(value) <= 128
    if not valid:
        raise InvalidInput.saying("名单值无效（设备为 14-20 位数字，其他为 8-128 个字符）",
                                  "the value is invalid (a device: 14-20 digits; otherwise 8-128 characters)")
    existing = session.scalar(select(RiskListEntry).where(RiskListEntry.kind == kind, RiskListEntry.value == value))
    if existing is not None:
        return existing
    entry = RiskListEntry(kind=kind, value=value, reason=reason, created_by=actor_user_id)
    session.add(entry)
    session.flush()
    audit_action(session, actor_user_id, "risk.list.add", f"risk_list_entry:{entry.id}", kind)
    return entry


def remove_from_list(session: Session, entry_id: int, *, actor_user_id: int | None = None) -> None:
    entry = session.get(RiskListEntry, entry_id)
    if entry is None:
        raise NotFound.saying(f"名单条目 {entry_id}", f"risk list entry {entry_id}")
    session.delete(entry)
    session.flush()
    audit_action(session, actor_user_id, "risk.list.remove", f"risk_list_entry:{entry_id}", entry.kind)


def list_entries(session: Session, *, limit: int = 100) -> list[RiskListEntry]:
    return list(session.scalars(select(RiskListEntry).order_by(RiskListEntry.id.desc()).limit(limit)))


def policy_summary(session: Session) -> dict[str, Any]:
    p = policies.active_policy(session)
    return p.model_dump(mode="json")


__all__ = ["Decision", "DomainError", "RiskInput", "decide", "explain", "get_decision", "replay", "review",
           "review_queue"]


# --- monitoring --------------------------------------------------------------------------------------


def stats(session: Session, *, since: datetime, limit_rows: int = 20_000) -> dict[str, Any]:
    """Approval monitoring since a time: outcomes, grades, mean score, the queue, the rules that fire."""
    d = RiskDecision
    window = (d.decided_at >= since) & d.training.is_(False)
    by_outcome = select(d.outcome, func.count()).where(window).group_by(d.outcome)
    outcomes = {str(k): int(n) for k, n in session.execute(by_outcome)}
    by_grade = select(d.grade, func.count()).where(window, d.grade.is_not(None)).group_by(d.grade)
    grades = {str(k): int(n) for k, n in session.execute(by_grade)}
    mean_score = session.scalar(select(func.avg(d.score)).where(window))
    pending = session.scalar(select(func.count()).select_from(d).where(d.review_status == "pending")) or 0
    fired: dict[str, int] = {}
    for hits in session.scalars(select(d.rules_fired).where(window).order_by(d.id.desc()).limit(limit_rows)):
        for hit in hits:
            fired[hit["code"]] = fired.get(hit["code"], 0) + 1
    total = sum(outcomes.values())
    return {
        "since": since.isoformat(), "decisions": total, "outcomes": outcomes, "grades": grades,
        "approval_rate": f"{outcomes.get('approve', 0) / total:.4f}" if total else None,
        "mean_score": round(float(mean_score), 1) if mean_score is not None else None,
        "pending_reviews": int(pending),
        "rules_fired": dict(sorted(fired.items(), key=lambda kv: (-kv[1], kv[0]))),
    }
