"""Partner registry errors in zh-CN and English."""

from __future__ import annotations

from fenqi.kit.errors import DomainError, NotFound


class PartnerNotFound(NotFound):
    code = "partner_not_found"
    zh = "合作方不存在：{detail}"
    en = "No such partner: {detail}"


class InvalidPartner(DomainError):
    code = "invalid_partner"
    status = 400
    zh = "合作方信息有误：{detail}"
    en = "Invalid partner record: {detail}"
