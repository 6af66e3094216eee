"""Experiments: create, start, stop; the arm a shopper is shown (recorded as an exposure); a visitor's
exposures linked to the shopper account they apply with."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fenqi.experiments.arms import Arm, arm_for, parse_arms
from fenqi.experiments.errors import ExperimentNotFound, ExperimentState, InvalidExperiment
from fenqi.experiments.models import Experiment, Exposure
from fenqi.identity.service import audit
from fenqi.kit.clock import business_date
from fenqi.kit.db import utcnow

PLAN_MENU = "plan_menu"
STATUS_LABELS = {"draft": ("未开始", "Not started"), "running": ("进行中", "Running"), "stopped": ("已停止", "Stopped")}


@dataclass(frozen=True, slots=True)
class Shown:
    """The arm a shopper is shown, and of which experiment."""

    experiment_code: str
    arm: Arm


def visitor_subject(token: str) -> str:
    """A visitor (not signed in) by their cookie: only a hash of it is stored."""
    return "v:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def user_subject(user_id: int) -> str:
    return f"u:{user_id}"


def create(session: Session, *, code: str, name_zh: str, name_en: str, arms: Sequence[dict[str, Any]],
           actor_user_id: int | None) -> Experiment:
    code, name_zh = code.strip(), name_zh.strip()
    if not code or len(code) > 40 or not code.replace("-", "").replace("_", "").isalnum() or not code.isascii():
        raise InvalidExperiment(zh="实验设置有误：编号为 1 至 40 个字母、数字、- 或 _",
                                en="Invalid experiment: the code is 1 to 40 letters, digits, - or _")
    if not name_zh or len(name_zh) > 80 or len(name_en) > 80:
        raise InvalidExperiment(zh="实验设置有误：请填写名称（最多 80 字）",
                                en="Invalid experiment: enter a name (at most 80 characters)")
    parsed = parse_arms(arms)
    if session.scalar(select(Experiment.id).where(Experiment.code == code)) is not None:
        raise InvalidExperiment(zh=f"实验设置有误：编号 {code} 已存在", en=f"Invalid experiment: code {code} exists")
    experiment = Experiment(code=code, name_zh=name_zh, name_en=name_en.strip() or name_zh, surface=PLAN_MENU,
                            arms=[a.to_json() for a in parsed], status="draft", created_by=actor_user_id)
    session.add(experiment)
    session.flush()
    audit(session, actor_user_id=actor_user_id, action="experiment.create", subject=f"experiment:{code}")
    return experiment


def get(session: Session, code: str) -> Experiment:
    found = session.scalar(select(Experiment).where(Experiment.code == code))
    if found is None:
        raise ExperimentNotFound(code)
    return found


def list_all(session: Session) -> list[Experiment]:
    return list(session.scalars(select(Experiment).order_by(Experiment.id.desc()).limit(200)))


def start(session: Session, code: str, *, actor_user_id: int | None) -> Experiment:
    """Draft → running, refused while another experiment runs on the same surface (their arms would mix).
    The change is one conditional UPDATE, so two starts of the same experiment cannot both succeed, and a
    partial unique index (one running experiment per surface) refuses two experiments started at once."""
    experiment = get(session, code)
    other = session.scalar(select(Experiment.code).where(
        Experiment.surface == experiment.surface, Experiment.status == "running", Experiment.id != experiment.id))
    if other is not None:
        raise ExperimentState(zh=f"实验状态不允许此操作：实验 {other} 正在进行，请先停止",
                              en=f"The experiment's state does not allow this: {other} is running; stop it first")
    try:
        with session.begin_nested():  # another start won the race: the unique index refuses the second
            moved = session.execute(
                update(Experiment).where(Experiment.id == experiment.id, Experiment.status == "draft")
                .values(status="running", started_at=utcnow()).execution_options(synchronize_session=False))
    except IntegrityError:
        raise ExperimentState(zh="实验状态不允许此操作：另一个实验正在进行，请先停止",
                              en="The experiment's state does not allow this: another experiment is running") from None
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise ExperimentState(zh="实验状态不允许此操作：只有未开始的实验可以开始",
                              en="The experiment's state does not allow this: only a draft can start")
    session.refresh(experiment)
    audit(session, actor_user_id=actor_user_id, action="experiment.start", subject=f"experiment:{code}")
    return experiment


def stop(session: Session, code: str, *, actor_user_id: int | None) -> Experiment:
    experiment = get(session, code)
    moved = session.execute(update(Experiment).where(Experiment.id == experiment.id, Experiment.status == "running")
                            .values(status="stopped", stopped_at=utcnow()).execution_options(synchronize_session=False))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise ExperimentState(zh="实验状态不允许此操作：只有进行中的实验可以停止",
                              en="The experiment's state does not allow this: only a running experiment can stop")
    session.refresh(experiment)
    audit(session, actor_user_id=actor_user_id, action="experiment.stop", subject=f"experiment:{code}")
    return experiment


def running(session: Session, surface: str = PLAN_MENU) -> Experiment | None:
    return session.scalar(select(Experiment).where(Experiment.surface == surface, Experiment.status == "running")
                          .order_by(Experiment.id).limit(1))


def expose(session: Session, *, subject: str, user_id: int | None, sku_code: str = "",
           surface: str = PLAN_MENU) -> Shown | None:
    """The arm of the running experiment this shopper is shown (None: no experiment runs), recorded the first
    time. A shopper already exposed keeps the arm first shown — also a signed-in shopper whose earlier visit
    as a visitor was linked to the account; anyone else gets the arm of the stable hash."""
    experiment = running(session, surface)
    if experiment is None:
        return None
    arms = parse_arms(experiment.arms)
    by_code = {a.code: a for a in arms}
    seen = _exposure(session, experiment.id, subject, user_id)
    if seen is not None and seen.arm in by_code:
        return Shown(experiment.code, by_code[seen.arm])
    arm = arm_for(experiment.code, subject, arms)
    try:
        with session.begin_nested():  # the same shopper on two tabs at once: the second insert loses, no harm
            session.add(Exposure(experiment_id=experiment.id, arm=arm.code, subject=subject, user_id=user_id,
                                 business_date=business_date(session), sku_code=sku_code[:60]))
    except IntegrityError:
        seen = _exposure(session, experiment.id, subject, user_id)
        if seen is not None and seen.arm in by_code:
            arm = by_code[seen.arm]
    return Shown(experiment.code, arm)


def _exposure(session: Session, experiment_id: int, subject: str, user_id: int | None) -> Exposure | None:
    query = select(Exposure).where(Exposure.experiment_id == experiment_id)
    if user_id is not None:
        found = session.scalar(query.where(Exposure.user_id == user_id))
        if found is not None:
            return found
    return session.scalar(query.where(Exposure.subject == subject))


def link_visitor(session: Session, *, subject: str, user_id: int) -> int:
    """A visitor who applies signs in first: their exposures (as a visitor) now count for the account, in
    each experiment where the account has none of its own. Returns how many were linked."""
    own = select(Exposure.experiment_id).where(Exposure.user_id == user_id).scalar_subquery()
    result = session.execute(update(Exposure).where(
        Exposure.subject == subject, Exposure.user_id.is_(None), Exposure.experiment_id.not_in(own),
    ).values(user_id=user_id).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
