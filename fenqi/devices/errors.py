"""Errors of the device lock (zh-CN first, English too)."""

from __future__ import annotations

from fenqi.kit.errors import Conflict, DomainError, NotFound, Unauthorized


class BadDeviceToken(Unauthorized):
    """Wrong token, unknown device or an IMEI the token was not issued for: one answer for all, so a
    caller learns nothing about which part was wrong."""

    code = "device_token_invalid"
    zh = "设备凭证无效"
    en = "Invalid device credentials"


class ReplayedCheckin(Conflict):
    code = "device_checkin_replayed"
    zh = "签到计数器已使用过（疑似重放），请使用更大的计数器"
    en = "Check-in counter already used (a replay?): send a higher counter"


class ReleaseFinal(DomainError):
    code = "device_release_final"
    status = 409
    zh = "设备释放已生效，不能撤销：{detail}"
    en = "The device release is final and cannot be cancelled: {detail}"


class DeviceNotFound(NotFound):
    """A device that does not exist, or one a collector may not act on (its loan's case is someone
    else's): one answer for both, as for another collector's case, so nobody learns which devices exist."""

    code = "not_found"
    zh = "未找到设备 {detail}，或该设备不属于您负责的催收案件"
    en = "Device {detail} not found, or not in one of your collection cases"
