"""A phone's way from the shelf to a loan and back: which stores hold a model, reserving a phone for an
application, selling it on the loan (the handover), releasing it, the moves after the sale (locked,
returned, restocked) and the exchange of one phone for another on a loan. Registering and finding a
phone by IMEI stay in `catalog.service`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fenqi.catalog.errors import BadDeviceTransition, DeviceNotAvailable, DeviceOtherMerchant, DeviceWrongSku
from fenqi.catalog.lifecycle import DeviceStatus, can_move
from fenqi.catalog.models import Device, Sku, Store
from fenqi.catalog.service import SkuView, _real_stores, get_device, get_sku, get_store
from fenqi.kit.errors import InvalidInput


def stores_with_stock(session: Session, sku_code: str) -> list[Store]:
    """The stores holding at least one phone of this SKU on the shelf (where an online shopper can pick up)."""
    sku = get_sku(session, sku_code)
    held = select(Device.store_id).where(Device.sku_id == sku.id, Device.status == DeviceStatus.IN_STOCK,
                                         Device.store_id.in_(_real_stores()))
    return list(session.scalars(select(Store).where(Store.id.in_(held)).order_by(Store.code)))


def device_in_stock(session: Session, *, sku_code: str, store_id: int) -> Device | None:
    """One phone of this SKU on the shelf of a store (the oldest first), for an online order to reserve."""
    sku = get_sku(session, sku_code)
    return session.scalar(
        select(Device).where(Device.sku_id == sku.id, Device.store_id == store_id,
                             Device.status == DeviceStatus.IN_STOCK).order_by(Device.id).limit(1)
    )


def _ensure_merchant_device(session: Session, device: Device, merchant_id: int) -> None:
    """A merchant sells only phones stocked by its own stores (its staff act only on its devices)."""
    if get_store(session, device.store_id).merchant_id != merchant_id:
        raise DeviceOtherMerchant(device.imei)


def check_device_for_sale(session: Session, imei: str, sku_code: str, *, merchant_id: int) -> Device:
    """Refuse early (before anything is written) a phone that is invalid, unknown, another merchant's,
    another model or sold."""
    device = get_device(session, imei)
    _ensure_merchant_device(session, device, merchant_id)
    if device.sku_id != get_sku(session, sku_code).id:
        raise DeviceWrongSku(device.imei)
    if device.status != DeviceStatus.IN_STOCK:
        raise DeviceNotAvailable(device.imei, status=device.status)
    return device


def reserve_device(session: Session, *, imei: str, sku_code: str, application_id: int, merchant_id: int) -> Device:
    """Hold a device for an application (of `merchant_id`: only its own stores' phones). A conditional
    UPDATE, so two sales of one phone cannot both win."""
    device = get_device(session, imei)
    _ensure_merchant_device(session, device, merchant_id)
    if device.application_id == application_id and device.status == DeviceStatus.RESERVED:
        return device  # the same application asking again
    if device.sku_id != get_sku(session, sku_code).id:
        raise DeviceWrongSku(device.imei)
    result = session.execute(
        update(Device)
        .where(Device.id == device.id, Device.status == DeviceStatus.IN_STOCK)
        .values(status=DeviceStatus.RESERVED, application_id=application_id)
        .execution_options(synchronize_session=False)
    )
    moved = result.rowcount  # type: ignore[attr-defined]
    session.refresh(device)
    if moved != 1:
        raise DeviceNotAvailable(device.imei, status=device.status)
    return device


# (session, imei, loan_id, status) → None: what other domains do when a phone is sold on a loan (the
# handover) or comes back from one; registered by `fenqi.wiring.install()` (the device lock).
DeviceMoved = Callable[[Session, str, int | None, str], None]
_moved: list[DeviceMoved] = []


def on_device_moved(handler: DeviceMoved) -> None:
    if handler not in _moved:
        _moved.append(handler)


def _announce(session: Session, device: Device, loan_id: int | None) -> None:
    for handler in _moved:
        handler(session, device.imei, loan_id, device.status)


def bind_to_loan(session: Session, *, imei: str, application_id: int, loan_id: int) -> Device:
    """Reserved for this application → sold on installments, bound to the loan."""
    device = get_device(session, imei)
    if device.status == DeviceStatus.SOLD and device.loan_id == loan_id:
        return device
    if device.status != DeviceStatus.RESERVED or device.application_id != application_id:
        raise DeviceNotAvailable(device.imei, status=device.status)
    device.status = DeviceStatus.SOLD
    device.loan_id = loan_id
    session.flush()
    _announce(session, device, loan_id)
    return device


def release_reservation(session: Session, *, application_id: int) -> None:
    """An application that ends without a sale gives its device back to the shelf."""
    held = session.scalars(
        select(Device).where(Device.application_id == application_id, Device.status == DeviceStatus.RESERVED)
    )
    for device in held:
        device.status = DeviceStatus.IN_STOCK
        device.application_id = None
    session.flush()


def set_device_status(session: Session, *, imei: str, status: str) -> Device:
    """Moves used by collections (lock/unlock), servicing (released) and after-sales (returned, restock)."""
    device = get_device(session, imei)
    if status not in DeviceStatus._value2member_map_:
        raise InvalidInput.saying(f"未知的设备状态 {status}", f"unknown device status {status}")
    if device.status == status:
        return device
    # Reserving and selling go through an application (reserve_device, bind_to_loan), never a bare status
    # change; "sold" is reachable here only as the unlock of a locked phone.
    unlock = status == DeviceStatus.SOLD and device.status == DeviceStatus.LOCKED
    through_sale = status == DeviceStatus.RESERVED or (status == DeviceStatus.SOLD and not unlock)
    if through_sale or not can_move(device.status, status):
        raise BadDeviceTransition(current=device.status, target=status)
    loan_id = device.loan_id
    device.status = status
    if status == DeviceStatus.IN_STOCK:
        device.application_id = None
        device.loan_id = None
    session.flush()
    _announce(session, device, loan_id)
    return device


def exchange_device(session: Session, *, loan_id: int, old_imei: str, new_imei: str) -> Device:
    """An exchange (换货): a phone from the shelf of the same merchant is sold on the loan in place of the
    old one, which comes back as "returned" (to be inspected, then restocked). Idempotent."""
    old, new = get_device(session, old_imei), get_device(session, new_imei)
    if new.loan_id == loan_id and new.status == DeviceStatus.SOLD:
        return new
    if old.loan_id != loan_id:
        raise DeviceNotAvailable(old.imei, status=old.status)
    if new.status != DeviceStatus.IN_STOCK or get_store(session, new.store_id).merchant_id != get_store(
            session, old.store_id).merchant_id:
        raise DeviceNotAvailable(new.imei, status=new.status)
    set_device_status(session, imei=old.imei, status=DeviceStatus.RETURNED)
    new.status, new.loan_id, new.application_id = DeviceStatus.SOLD, loan_id, old.application_id
    session.flush()
    _announce(session, new, loan_id)
    return new


def sku_of_device(session: Session, imei: str) -> SkuView:
    device = get_device(session, imei)
    sku = session.get(Sku, device.sku_id)
    assert sku is not None  # the foreign key
    return get_sku(session, sku.code)


def device_json(session: Session, device: Device) -> dict[str, Any]:
    sku = session.get(Sku, device.sku_id)
    return {
        "imei": device.imei, "imei2": device.imei2, "status": device.status,
        "sku": sku.code if sku else None, "store_id": device.store_id,
        "application_id": device.application_id, "loan_id": device.loan_id,
    }
