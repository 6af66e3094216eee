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


class BinShare(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    expected: float  # share of the training split in this bin
    actual: float  # share of the recent decisions


class DriftOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    psi: float
    level: str  # stable (< 0.10) | watch (0.10–0.25) | alert (> 0.25)
    bins: list[BinShare]


class CalibrationOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    month: str
    grade: str
    loans: int
    bad: int
    observed: float | None
    predicted: float
    band_low: float
    band_high: float
    outside: bool


class AlertOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    what: str
    value: str


class MonitoringOut(BaseModel):
    """Population stability of the score and features, and calibration of the grades."""

    model_config = ConfigDict(extra="forbid")

    model_version: str
    since: str
    until: str
    decisions: int
    score: DriftOut | None
    features: list[DriftOut]
    calibration: list[CalibrationOut]
    alerts: list[AlertOut]
