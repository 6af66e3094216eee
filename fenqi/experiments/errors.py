"""Experiment errors in zh-CN and English."""

from __future__ import annotations

from fenqi.kit.errors import DomainError, NotFound


class ExperimentNotFound(NotFound):
    code = "experiment_not_found"
    zh = "实验不存在：{detail}"
    en = "No such experiment: {detail}"


class InvalidExperiment(DomainError):
    code = "invalid_experiment"
    status = 400
    zh = "实验设置有误：{detail}"
    en = "Invalid experiment: {detail}"


class ExperimentState(DomainError):
    code = "experiment_state"
    status = 409
    zh = "实验状态不允许此操作：{detail}"
    en = "The experiment's state does not allow this: {detail}"
