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


class CouponNotFound(NotFound):
    code = "coupon_not_found"
    zh = "优惠券不存在或不属于您：{detail}"
    en = "No such coupon of yours: {detail}"


class CouponExpired(DomainError):
    code = "coupon_expired"
    status = 409
    zh = "优惠券{detail}不在有效期内，无法使用；可不用券继续申请，或换一张有效的券"
    en = "Coupon {detail} is outside its validity dates and cannot be used; apply without it or use a valid one"


class CouponIneligible(DomainError):
    code = "coupon_ineligible"
    status = 409
    zh = "优惠券不适用于此方案：{detail}；请换一个方案或不用券"
    en = "The coupon does not apply to this plan: {detail}; choose another plan or apply without it"


class CouponUsed(DomainError):
    code = "coupon_used"
    status = 409
    zh = "优惠券{detail}已被使用，每张券只能用一次；请重新选择方案（不用券）后再签约"
    en = "Coupon {detail} has already been used (each coupon is used once); change the plan without it, then sign"


class CouponNotForPractice(DomainError):
    code = "coupon_not_for_practice"
    status = 409
    zh = "培训模式的练习销售不能使用优惠券（优惠券是顾客真实的权益，练习不得消耗）；请不用券继续练习"
    en = "A practice sale in training mode cannot use a coupon (coupons are shoppers' real benefits and " \
         "practice must not spend them); continue the practice without it"


class InvalidCoupon(DomainError):
    code = "invalid_coupon"
    status = 400
    zh = "优惠券设置有误：{detail}"
    en = "Invalid coupon: {detail}"


class ShareLinkNotFound(NotFound):
    code = "share_link_not_found"
    zh = "分享链接无效或已失效，请向店员索取新的链接"
    en = "This share link is not valid or no longer works; ask the store for a new one"


class InvalidShareLink(DomainError):
    code = "invalid_share_link"
    status = 400
    zh = "分享链接设置有误：{detail}"
    en = "Invalid share link: {detail}"
