"""Promotion errors in zh-CN and English."""

from __future__ import annotations

from fenqi.kit.errors import DomainError, NotFound


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    zh = "活动不存在：{detail}"
    en = "No such campaign: {detail}"


class CampaignUnavailable(DomainError):
    code = "campaign_unavailable"
    status = 409
    zh = "该分期方案仅限活动期间的指定机型、门店和期数，目前不可用（{detail}），请选择其他方案"
    en = "This plan is offered only in a campaign for chosen phones, stores and terms and is not available now " \
         "({detail}); please choose another plan"


class CampaignBudgetSpent(DomainError):
    code = "campaign_budget_spent"
    status = 409
    zh = "活动「{detail}」的贴息预算已用完，请选择其他分期方案"
    en = "The subsidy budget of the campaign “{detail}” is spent; please choose another plan"


class InvalidCampaign(DomainError):
    code = "invalid_campaign"
    status = 400
    zh = "活动设置有误：{detail}"
    en = "Invalid campaign: {detail}"
