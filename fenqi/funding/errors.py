"""Funding errors in zh-CN and English."""

from __future__ import annotations

from fenqi.kit.errors import DomainError


class QuotaExhausted(DomainError):
    code = "quota_exhausted"
    status = 409
    zh = "资金方今日或本月额度已用完，请稍后再试（{detail}）"
    en = "Our funding partners' daily or monthly quota is used up; please try again later ({detail})"


class NoFunderAvailable(DomainError):
    code = "no_funder"
    status = 409
    zh = "暂无资金方承接该分期方案（{detail}）"
    en = "No funding partner takes this plan ({detail})"


class UnknownStrategy(DomainError):
    code = "unknown_strategy"
    zh = "未知的路由策略：{detail}（可选 lowest_cost、quota_balancing、priority）"
    en = "Unknown routing strategy: {detail} (choose lowest_cost, quota_balancing or priority)"
