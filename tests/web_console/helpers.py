"""Test helpers for the console tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.origination.world import World


def pay(session: Session, out_trade_no: str) -> None:
    """The shopper pays the order at the cashier (the payment service's own settlement path)."""
    from fenqi.demo.history import pay_order

    pay_order(session, out_trade_no)


def clerk_principal(session: Session, merchant_id: int) -> Any:
    from fenqi.identity.principal import Principal
    from fenqi.identity.service import create_user

    user = create_user(session, role="clerk", display_name="测试店员", merchant_id=merchant_id)
    return Principal(user.id, "clerk", merchant_id, user.display_name)


def sell(session: Session, world: World, *, imei: str | None = None, pay_down: bool = True, **overrides: Any) -> Any:
    """A walk-in sale through origination's services: applied, approved, contract signed, down payment paid.
    Returns the application (with its loan_id)."""
    from fenqi.origination import service, signing
    from fenqi.origination.schemas import ApplicationIn

    clerk = clerk_principal(session, world.merchant_id)
    body = ApplicationIn.model_validate(world.body(imei=imei or world.devices[0], **overrides))
    result = service.submit(session, body, clerk, service.Origin(ip="127.0.0.1", device="test"))
    app = result.application
    assert app.status == "approved", (app.status, app.reasons)
    from fenqi.demo.history import archived_contracts

    with archived_contracts():  # the real PDF (seconds, CJK fonts) is origination's to test
        contract = signing.generate_contract(session, app)
    signed = signing.sign(session, app, contract_sha256=contract.sha256, consent_version="e-contract-2026.1",
                          imei=None, channel="alipay", principal=clerk, origin=service.Origin("127.0.0.1", "test"))
    if pay_down and signed.payment:
        pay(session, signed.payment["out_trade_no"])
    return app
