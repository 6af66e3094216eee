"""What other domains plug into payments, registered explicitly at start-up by `fenqi.wiring.install()`
(never by importing a module): the reactions to a paid order, and the port through which payments
learns what an application is owed (origination sits above payments and is never imported here).

    register_paid_handler("down_payment", handler)      # handler(session, order) in the settling transaction
    register_application_port(port)                     # port(session, application_id) -> ApplicationDue | None
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from fenqi.payments.errors import UnknownPurpose

if TYPE_CHECKING:
    from fenqi.payments.models import PaymentOrder

# "sale": a phone's whole price paid with 花呗分期 at the cashier, no loan of ours (the platform carries
# the credit); origination owns the sale and reacts to its order.
PURPOSES = ("down_payment", "installment", "payoff", "sale")

Handler = Callable[[Session, "PaymentOrder"], None]


@dataclass(frozen=True, slots=True)
class ApplicationDue:
    """What a signed application owes as its down payment, and to whom it belongs."""

    application_id: int
    status: str
    owner_user_id: int | None
    merchant_id: int
    loan_id: int | None
    down_payment_fen: int
    paid: bool
    payment_order: str | None  # THE down-payment order the application references


ApplicationPort = Callable[[Session, int], ApplicationDue | None]
Repoint = Callable[[Session, int, str], None]


class WiringMissing(RuntimeError):
    """A process settled a payment that other domains must react to before `fenqi.wiring.install()`."""


_paid: dict[str, list[Handler]] = {}
_closed: dict[str, list[Handler]] = {}
_ports: dict[str, object] = {}
_installed = False


def register_paid_handler(purpose: str, handler: Handler) -> None:
    """`handler(session, order)` runs in the settling transaction when an order of `purpose` is paid."""
    if purpose not in PURPOSES:
        raise UnknownPurpose(purpose)
    if handler not in _paid.setdefault(purpose, []):
        _paid[purpose].append(handler)


def register_closed_handler(purpose: str, handler: Handler) -> None:
    """`handler(session, order)` runs in the transaction that closes an unpaid order of `purpose` (its time
    ran out at the channel): an outright sale gives its phone back to the shelf. A payment that still
    arrives afterwards settles the order as usual and the paid handler sees it."""
    if purpose not in PURPOSES:
        raise UnknownPurpose(purpose)
    if handler not in _closed.setdefault(purpose, []):
        _closed[purpose].append(handler)


def closed_handlers(purpose: str) -> list[Handler]:
    return list(_closed.get(purpose, ()))


def register_application_port(lookup: ApplicationPort, repoint: Repoint) -> None:
    """`lookup(session, id)`: the application's down payment; `repoint(session, id, out_trade_no)`: a
    re-issued down-payment order becomes the one the application references."""
    _ports["application"] = lookup
    _ports["repoint"] = repoint


def mark_installed() -> None:
    global _installed
    _installed = True


def installed() -> bool:
    return _installed


def paid_handlers(purpose: str) -> list[Handler]:
    if not _installed:
        raise WiringMissing("fenqi.wiring.install() was not called in this process")
    return list(_paid.get(purpose, ()))


def application_due(session: Session, application_id: int) -> ApplicationDue | None:
    lookup = _ports.get("application")
    if lookup is None:
        raise WiringMissing("no application port: fenqi.wiring.install() was not called in this process")
    return lookup(session, application_id)  # type: ignore[operator]


def repoint_application(session: Session, application_id: int, out_trade_no: str) -> None:
    repoint = _ports.get("repoint")
    if repoint is None:
        raise WiringMissing("no application port: fenqi.wiring.install() was not called in this process")
    repoint(session, application_id, out_trade_no)  # type: ignore[operator]
