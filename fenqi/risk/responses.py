"""Response models that carry the engine's own types (facts, policy): kept out of `schemas`, which the
engine's rules import."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from fenqi.risk.rules import Facts, Policy
from fenqi.risk.schemas import DecisionOut, PolicyVersion


class ExplainedDecision(DecisionOut):
    """A decision with the working shown: each feature's bin and points, and what was looked up."""

    points: dict[str, int]
    bins: dict[str, str]
    facts: Facts


class RulesOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: Policy
    versions: list[PolicyVersion]
