"""A device's status lifecycle: which moves are allowed, and why each exists.

in_stock ──reserve──▶ reserved ──sell──▶ sold ──pay off──▶ released
   ▲                    │                 │  ▲
   └──────release───────┘        lock ◀───┘  └─── unlock
   ▲                                      │
   └──────── restock ◀── returned ◀──return (7-day return, cancelled loan; the old phone of an exchange)
   ▲
   └──────── loaned (a loaner phone lent during a repair, back on the shelf when returned)
"""

from __future__ import annotations

from enum import StrEnum


class DeviceStatus(StrEnum):
    IN_STOCK = "in_stock"
    RESERVED = "reserved"  # held for an application in progress
    SOLD = "sold"  # sold on installments, bound to a loan
    RETURNED = "returned"  # back from the shopper, awaiting inspection
    LOCKED = "locked"  # remotely locked for a missed payment
    RELEASED = "released"  # loan paid off: the financing lock is removed for good
    LOANED = "loaned"  # lent to a shopper while their phone is repaired (after-sales)


# How a status reads to a clerk or a shopper (zh-CN, English): errors name it, never the code.
STATUS_NAMES: dict[str, tuple[str, str]] = {
    DeviceStatus.IN_STOCK: ("在库", "in stock"),
    DeviceStatus.RESERVED: ("已为其他申请预留", "held for another application"),
    DeviceStatus.SOLD: ("已售出", "sold"),
    DeviceStatus.RETURNED: ("已退回待检", "returned, awaiting inspection"),
    DeviceStatus.LOCKED: ("已锁定", "locked"),
    DeviceStatus.RELEASED: ("已售出并解除锁定", "sold and released"),
    DeviceStatus.LOANED: ("作为备用机借出", "lent as a loaner"),
}


def status_name(status: str, lang: str = "zh") -> str:
    zh, en = STATUS_NAMES.get(status, (status, status))
    return zh if lang.startswith("zh") else en


ALLOWED: dict[DeviceStatus, frozenset[DeviceStatus]] = {
    DeviceStatus.IN_STOCK: frozenset({DeviceStatus.RESERVED, DeviceStatus.LOANED}),
    DeviceStatus.LOANED: frozenset({DeviceStatus.IN_STOCK}),
    DeviceStatus.RESERVED: frozenset({DeviceStatus.IN_STOCK, DeviceStatus.SOLD}),
    DeviceStatus.SOLD: frozenset({DeviceStatus.LOCKED, DeviceStatus.RELEASED, DeviceStatus.RETURNED}),
    DeviceStatus.LOCKED: frozenset({DeviceStatus.SOLD, DeviceStatus.RELEASED, DeviceStatus.RETURNED}),
    DeviceStatus.RETURNED: frozenset({DeviceStatus.IN_STOCK}),
    DeviceStatus.RELEASED: frozenset(),
}


def can_move(current: str, target: str) -> bool:
    return DeviceStatus(target) in ALLOWED[DeviceStatus(current)]
