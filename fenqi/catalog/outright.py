"""Phones sold outright for their whole price — paid with 花呗分期 at the cashier, the payment platform
carrying the credit and no loan of ours: held for the sale while the shopper pays, sold once paid, back on
the shelf when the payment expires or the phone is returned. No lock ever applies to such a phone (nothing
is financed), so these moves announce nothing to the device lock.

    reserve_for_sale(session, imei=..., sku_code=..., sale_id=7, merchant_id=1)
    sell_outright(session, sale_id=7)       # the sale is paid
    release_sale(session, sale_id=7)        # the payment expired unpaid
    restock_sale(session, sale_id=7)        # a 7-day return: the phone goes back on the shelf
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fenqi.catalog.errors import DeviceNotAvailable, DeviceWrongSku
from fenqi.catalog.lifecycle import DeviceStatus
from fenqi.catalog.models import Device
from fenqi.catalog.service import get_device, get_sku
from fenqi.catalog.stock import check_device_for_sale


def reserve_for_sale(session: Session, *, imei: str, sku_code: str, sale_id: int, merchant_id: int) -> str:
    """Hold an in-stock phone of this merchant for an outright sale (a conditional UPDATE: two sales of
    one phone cannot both win). Returns the phone's IMEI."""
    device = get_device(session, imei)
    if device.sale_id == sale_id and device.status in (DeviceStatus.RESERVED, DeviceStatus.SOLD):
        return device.imei
    check_device_for_sale(session, device.imei, sku_code, merchant_id=merchant_id)
    moved = session.execute(
        update(Device)
        .where(Device.id == device.id, Device.status == DeviceStatus.IN_STOCK)
        .values(status=DeviceStatus.RESERVED, sale_id=sale_id, application_id=None, loan_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    session.refresh(device)
    if moved != 1:
        raise DeviceNotAvailable(device.imei, status=device.status)
    return device.imei


def sell_outright(session: Session, *, sale_id: int, imei: str, sku_code: str, merchant_id: int) -> str:
    """Reserved for this sale → sold (no loan). A payment that arrives after the hold lapsed takes the phone
    again if it is still on the shelf; otherwise DeviceNotAvailable (the money is refunded by staff)."""
    device = get_device(session, imei)
    if device.sale_id == sale_id and device.status == DeviceStatus.SOLD:
        return device.imei
    if device.sale_id != sale_id or device.status != DeviceStatus.RESERVED:
        reserve_for_sale(session, imei=imei, sku_code=sku_code, sale_id=sale_id, merchant_id=merchant_id)
        session.refresh(device)
    if get_sku(session, sku_code, with_stock=False).id != device.sku_id:
        raise DeviceWrongSku(device.imei)
    device.status = DeviceStatus.SOLD
    session.flush()
    return device.imei


def release_sale(session: Session, *, sale_id: int) -> None:
    """A sale that ends unpaid gives its phone back to the shelf."""
    for device in session.scalars(select(Device).where(Device.sale_id == sale_id,
                                                       Device.status == DeviceStatus.RESERVED)):
        device.status, device.sale_id = DeviceStatus.IN_STOCK, None
    session.flush()


def restock_sale(session: Session, *, sale_id: int) -> None:
    """A returned outright sale (the 7-day no-reason return, checked at the desk): its phone is back on sale."""
    for device in session.scalars(select(Device).where(Device.sale_id == sale_id,
                                                       Device.status == DeviceStatus.SOLD)):
        device.status, device.sale_id = DeviceStatus.IN_STOCK, None
    session.flush()


def device_of_sale(session: Session, sale_id: int) -> str | None:
    """The IMEI of the phone held or sold for this sale, if any."""
    return session.scalar(select(Device.imei).where(Device.sale_id == sale_id).limit(1))
