"""Catalog errors in zh-CN and English."""

from __future__ import annotations

from fenqi.catalog.lifecycle import status_name
from fenqi.kit.errors import DomainError


class InvalidImei(DomainError):
    code = "imei_invalid"
    zh = "IMEI 无效：{detail}（须为 15 位数字且末位校验码正确）"
    en = "Invalid IMEI: {detail} (15 digits with a correct Luhn check digit)"


class ImeiAlreadyRegistered(DomainError):
    code = "imei_registered"
    status = 409
    zh = "IMEI {detail} 已登记在其他设备上"
    en = "IMEI {detail} is already registered to another device"


class DeviceNotAvailable(DomainError):
    code = "imei_not_available"
    status = 409
    zh = "设备 {detail} 不可销售（当前状态：{status_zh}）"
    en = "Device {detail} cannot be sold (it is {status_en})"

    def __init__(self, detail: str = "", *, status: str = "") -> None:
        super().__init__(detail, status=status, status_zh=status_name(status, "zh"),
                         status_en=status_name(status, "en"))


class DeviceWrongSku(DomainError):
    code = "imei_wrong_sku"
    status = 409
    zh = "设备 {detail} 不是所选商品型号"
    en = "Device {detail} is not the chosen product"


class BadDeviceTransition(DomainError):
    code = "device_bad_transition"
    status = 409
    zh = "设备状态不能从“{current_zh}”变为“{target_zh}”"
    en = "A device cannot go from {current_en} to {target_en}"

    def __init__(self, detail: str = "", *, current: str = "", target: str = "") -> None:
        super().__init__(detail, current=current, target=target, current_zh=status_name(current, "zh"),
                         target_zh=status_name(target, "zh"), current_en=status_name(current, "en"),
                         target_en=status_name(target, "en"))


class OutOfStock(DomainError):
    code = "out_of_stock"
    status = 409
    zh = "{detail} 暂无库存"
    en = "{detail} is out of stock"


class DeviceOtherMerchant(DomainError):
    code = "imei_other_merchant"
    status = 403
    zh = "设备 {detail} 不属于本商户的门店，不能在此销售"
    en = "Device {detail} is stocked by another merchant's store and cannot be sold here"


class NotTrainingMerchant(DomainError):
    code = "not_training_merchant"
    status = 409
    zh = "{detail} 不是培训门店：只有培训门店的练习数据可以重置"
    en = "{detail} is not a training store: only a training store's practice can be reset"
