"""Policies as versioned data: each merchant's newest version is in force, else the platform default's,
else the built-in one (fenqi.aftersales.policy.DEFAULT_POLICY). Versions are never changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.aftersales.models import AftersalesPolicy
from fenqi.aftersales.policy import DEFAULT_POLICY, Policy, policy_from_json, policy_to_json
from fenqi.identity.service import audit


def set_policy(session: Session, *, merchant_id: int | None, rules: dict[str, Any], note: str = "",
               actor_user_id: int | None = None) -> AftersalesPolicy:
    """A new version of a merchant's policy (or of the default when merchant_id is None)."""
    policy = policy_from_json(rules)  # refuse a bad document before anything is written
    key = merchant_id or 0
    latest = session.scalar(select(func.max(AftersalesPolicy.version)).where(AftersalesPolicy.merchant_key == key))
    row = AftersalesPolicy(merchant_id=merchant_id, merchant_key=key, version=(latest or 0) + 1,
                           rules=policy_to_json(policy), note=note[:200], created_by=actor_user_id)
    session.add(row)
    session.flush()
    audit(session, actor_user_id=actor_user_id, action="aftersales.policy.set",
          subject=f"merchant:{merchant_id or 'default'}", detail=f"version {row.version}")
    return row


def policy_row_for(session: Session, merchant_id: int) -> AftersalesPolicy | None:
    for key in (merchant_id, 0):
        row = session.scalar(select(AftersalesPolicy).where(AftersalesPolicy.merchant_key == key)
                             .order_by(AftersalesPolicy.version.desc()).limit(1))
        if row is not None:
            return row
    return None


def policy_for(session: Session, merchant_id: int) -> tuple[Policy, AftersalesPolicy | None]:
    row = policy_row_for(session, merchant_id)
    return (policy_from_json(row.rules) if row else DEFAULT_POLICY), row


def policy_of_case(session: Session, policy_id: int | None) -> Policy:
    """The version a case was opened under (a later version never changes a case in progress)."""
    if policy_id is None:
        return DEFAULT_POLICY
    row = session.get(AftersalesPolicy, policy_id)
    return policy_from_json(row.rules) if row else DEFAULT_POLICY
