"""Pricing errors, each with a zh-CN and an English message."""

from __future__ import annotations

from fenqi.kit.errors import DomainError


class UnknownMethod(DomainError):
    code = "unknown_method"
    zh = "未知的分期方式：{detail}（可选 equal-installment、equal-principal、flat-fee、interest-free）"
    en = "Unknown method: {detail} (choose equal-installment, equal-principal, flat-fee or interest-free)"


class InvalidPrice(DomainError):
    code = "invalid_price"
    zh = "商品价格须大于 0 且不超过 1000000.00 元"
    en = "The price must be above 0 and at most 1000000.00 yuan"


class InvalidDownPayment(DomainError):
    code = "invalid_down_payment"
    zh = "首付须不小于 0 且低于商品价格"
    en = "The down payment must be at least 0 and below the price"


class InvalidTerm(DomainError):
    code = "invalid_term"
    zh = "期数须为 1 到 60 之间的整数"
    en = "The term must be a whole number of months from 1 to 60"


class RateNotApplicable(DomainError):
    code = "rate_not_applicable"
    zh = "该分期方式不适用此费率"
    en = "This rate does not apply to the chosen method"


class AprAboveCap(DomainError):
    code = "apr_above_cap"
    status = 422
    zh = "该方案年化利率 {apr} 超过上限 {cap}，不能提供"
    en = "This plan's APR {apr} is above the cap of {cap} and cannot be offered"


class PlanNotOffered(DomainError):
    code = "plan_not_offered"
    zh = "该商品没有可用的分期方案：{detail}"
    en = "No installment plan is available: {detail}"
