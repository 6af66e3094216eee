"""Policy versions in the database: the active one, any past one (for re-runs), publishing a new one.

Without any stored version the built-in DEFAULT_POLICY applies, so a fresh database can decide.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fenqi.kit.errors import Conflict, InvalidInput, NotFound
from fenqi.risk.models import RiskPolicy
from fenqi.risk.rules import DEFAULT_POLICY, Policy


class UnknownPolicy(NotFound):
    code = "risk_policy_not_found"
    zh = "风控规则版本不存在：{detail}"
    en = "No risk rules version {detail}"


# Parsed policies by version; a stored version never changes, but the cache still checks the config
# it was parsed from so a test database that reuses a version name cannot serve a stale policy.
_parsed: dict[str, tuple[dict[str, Any], Policy]] = {}


def parse(config: dict[str, Any]) -> Policy:
    cached = _parsed.get(str(config.get("version")))
    if cached is not None and cached[0] == config:
        return cached[1]
    policy = Policy.model_validate(config)
    _parsed[policy.version] = (config, policy)
    return policy


def active_policy(session: Session) -> Policy:
    config = session.scalar(select(RiskPolicy.config).where(RiskPolicy.active.is_(True)).limit(1))
    return DEFAULT_POLICY if config is None else parse(config)


def policy_version(session: Session, version: str) -> Policy:
    config = session.scalar(select(RiskPolicy.config).where(RiskPolicy.version == version))
    if config is not None:
        return parse(config)
    if version == DEFAULT_POLICY.version:
        return DEFAULT_POLICY
    raise UnknownPolicy(version)


def list_versions(session: Session) -> list[RiskPolicy]:
    return list(session.scalars(select(RiskPolicy).order_by(RiskPolicy.id)))


def validate_config(config: dict[str, Any]) -> Policy:
    try:
        return Policy.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidInput(f"{where}: {first.get('msg', '')}" if where else str(first.get("msg", ""))) from None


def publish(session: Session, config: dict[str, Any], *, note: str = "", actor_user_id: int | None = None) -> Policy:
    """Store a new policy version and make it the active one. A version name can be used only once."""
    policy = validate_config(config)
    exists = session.scalar(select(RiskPolicy.id).where(RiskPolicy.version == policy.version))
    if exists is not None or (policy.version == DEFAULT_POLICY.version and policy != DEFAULT_POLICY):
        raise Conflict.saying(f"风控规则版本 {policy.version} 已存在",
                              f"risk rules version {policy.version} already exists")
    session.execute(update(RiskPolicy).where(RiskPolicy.active.is_(True)).values(active=False))
    session.add(RiskPolicy(
        version=policy.version, config=policy.model_dump(mode="json"), active=True, note=note,
        created_by=actor_user_id,
    ))
    session.flush()
    return policy


def activate(session: Session, version: str) -> Policy:
    """Make an existing version active again (a roll-back of the policy)."""
    row = session.scalar(select(RiskPolicy).where(RiskPolicy.version == version))
    if row is None:
        raise UnknownPolicy(version)
    session.execute(update(RiskPolicy).where(RiskPolicy.active.is_(True)).values(active=False))
    row.active = True
    session.flush()
    return parse(row.config)


def ensure_default(session: Session) -> bool:
    """Store the built-in policy as a version if no policy is stored yet (demo seed)."""
    if session.scalar(select(RiskPolicy.id).limit(1)) is not None:
        return False
    publish(session, DEFAULT_POLICY.model_dump(mode="json"), note="built-in default policy")
    return True
