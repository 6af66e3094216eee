"""Orders opened on someone's behalf (the API, the pages): only for a loan or application that exists,
only by its owner or its merchant's staff (finance and admins for any), and only for the amount the
loan or application defines — never a figure the client chose.

    order = open_order(session, who, purpose="installment", channel="alipay", loan_id=7)

A down payment is the application's: the order the application references is the only one that marks
it paid (origination checks the reference and the amount). Asking again while that order is open
returns it; once it closed unpaid, a new one is opened and the application points at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from fenqi.catalog.service import hb_seller_percent
from fenqi.identity.principal import Principal
from fenqi.identity.roles import ADMIN, FINANCE, MERCHANT_ROLES, SHOPPER
from fenqi.kit.errors import Forbidden, InvalidInput
from fenqi.kit.money import fmt_yuan, from_fen, parse_yuan, to_fen
from fenqi.payments import handlers, servicing_port
from fenqi.payments.channels import CHANNELS, get_channel
from fenqi.payments.errors import (
    ApplicationRequired,
    InvalidPlatformInstallments,
    LoanRequired,
    NothingToPay,
    OrderNotFound,
    PayeeNotFound,
    PaymentAmountMismatch,
    UnknownChannel,
    UnknownPurpose,
)
from fenqi.payments.models import PaymentOrder
from fenqi.payments.service import PURPOSES, create_order, find_order, mark_unpaid

# Who may open an order (the API and the demo page); may_pay_for says for which loan or application.
PAYERS = ("shopper", "clerk", "merchant_owner", "finance")


def positive_fen(raw: object, field: str) -> int:
    """An amount in yuan (sent in a body or typed on a page) as fen; zero or less is refused."""
    value = raw if isinstance(raw, Decimal) else parse_yuan(raw, field=field)
    if value <= 0:
        raise InvalidInput.saying(f"{field} 须为正数", f"{field} must be positive")
    return to_fen(value)


@dataclass(frozen=True, slots=True)
class Owner:
    user_id: int | None
    merchant_id: int | None


def may_pay_for(who: Principal, owner: Owner) -> bool:
    """The shopper it belongs to, staff of its merchant, finance and admins."""
    if who.role in (ADMIN, FINANCE):
        return True
    if who.role in MERCHANT_ROLES:
        return who.merchant_id is not None and who.merchant_id == owner.merchant_id
    if who.role == SHOPPER:
        return owner.user_id is not None and owner.user_id == who.user_id
    return False


def ensure_may_see(who: Principal, order: PaymentOrder, session: Session) -> None:
    """An order is shown to whoever may pay for what it is for (404 to anyone else: order numbers are
    not an invitation). Orders for neither a loan nor an application are finance's."""
    owner = _owner_of(session, order.loan_id, order.application_id)
    if owner is None and who.role in (ADMIN, FINANCE):
        return
    if owner is None or not may_pay_for(who, owner):
        raise OrderNotFound(order.out_trade_no)


def ensure_may_pay_loan(session: Session, who: Principal, loan_id: int) -> None:
    """Auto-debit agreements and anything else done for a loan: only for one that exists, by its owner,
    its merchant's staff or finance."""
    loan = servicing_port.loan_due(session, loan_id)
    if loan is None:
        raise PayeeNotFound(f"loan {loan_id}")
    if not may_pay_for(who, Owner(loan.customer_id, loan.merchant_id)):
        raise Forbidden()


def _owner_of(session: Session, loan_id: int | None, application_id: int | None) -> Owner | None:
    if loan_id is not None:
        loan = servicing_port.loan_due(session, loan_id)
        if loan is not None:
            return Owner(loan.customer_id, loan.merchant_id)
    if application_id is not None:
        app = handlers.application_due(session, application_id)
        if app is not None:
            return Owner(app.owner_user_id, app.merchant_id)
    return None


def _check_amount(expected: int, given: int | None) -> int:
    if given is not None and given != expected:
        raise PaymentAmountMismatch(expected=fmt_yuan(from_fen(expected)), given=fmt_yuan(from_fen(given)))
    return expected


def open_order(session: Session, who: Principal, *, purpose: str, channel: str, amount_fen: int | None = None,
               loan_id: int | None = None, application_id: int | None = None, subject: str = "",
               scene: str = "page", return_url: str = "", hb_fq_num: int | None = None) -> PaymentOrder:
    """Check who asks and for what, then open the order at the channel (nothing reaches the cashier
    for a loan or application that does not exist or is not the caller's). `hb_fq_num`: pay a down
    payment with 花呗分期 in that many periods; who pays the fee is the merchant's setting."""
    if purpose not in PURPOSES or purpose == "sale":  # a sale's order is opened by the sale (origination)
        raise UnknownPurpose(purpose)
    if channel not in CHANNELS:
        raise UnknownChannel(channel)
    if purpose == "down_payment":
        return _down_payment(session, who, channel=channel, amount_fen=amount_fen, loan_id=loan_id,
                             application_id=application_id, subject=subject, scene=scene, return_url=return_url,
                             hb_fq_num=hb_fq_num)
    if hb_fq_num is not None:
        raise InvalidPlatformInstallments(purpose)
    if loan_id is None:
        raise LoanRequired()
    loan = servicing_port.loan_due(session, loan_id)
    if loan is None:
        raise PayeeNotFound(f"loan {loan_id}")
    if not may_pay_for(who, Owner(loan.customer_id, loan.merchant_id)):
        raise Forbidden()
    if application_id is not None:
        app = handlers.application_due(session, application_id)
        if app is None or app.loan_id != loan_id:
            raise PayeeNotFound(f"application {application_id} of loan {loan_id}")
    expected = loan.payoff_fen if purpose == "payoff" else loan.next_bill_fen
    if not loan.open or expected <= 0:
        raise NothingToPay(f"loan {loan_id}")
    amount = _check_amount(expected, amount_fen)
    return create_order(session, purpose=purpose, amount_fen=amount, channel=channel, subject=subject or purpose,
                        loan_id=loan_id, application_id=application_id, scene=scene, return_url=return_url)


def _down_payment(session: Session, who: Principal, *, channel: str, amount_fen: int | None, loan_id: int | None,
                  application_id: int | None, subject: str, scene: str, return_url: str,
                  hb_fq_num: int | None = None) -> PaymentOrder:
    if application_id is None:
        raise ApplicationRequired()
    app = handlers.application_due(session, application_id)
    if app is None:
        raise PayeeNotFound(f"application {application_id}")
    if not may_pay_for(who, Owner(app.owner_user_id, app.merchant_id)):
        raise Forbidden()
    if loan_id is not None and loan_id != app.loan_id:
        raise PayeeNotFound(f"loan {loan_id} of application {application_id}")
    if app.status != "signed" or app.loan_id is None or app.paid or app.down_payment_fen <= 0:
        raise NothingToPay(f"application {application_id}")
    amount = _check_amount(app.down_payment_fen, amount_fen)
    current = find_order(session, app.payment_order) if app.payment_order else None
    # The order already open for it is the one to pay (unless the shopper switches channels or plans).
    if current is not None and current.status == "pending" and (
            (current.channel, current.hb_fq_num) == (channel, hb_fq_num) or not _close_at_channel(session, current)):
        return current
    percent = hb_seller_percent(session, app.merchant_id) if hb_fq_num is not None else 0
    order = create_order(session, purpose="down_payment", amount_fen=amount, channel=channel,
                         subject=subject or "首付", loan_id=app.loan_id, application_id=application_id, scene=scene,
                         return_url=return_url, hb_fq_num=hb_fq_num, hb_fq_seller_percent=percent)
    handlers.repoint_application(session, application_id, order.out_trade_no)
    return order


def _close_at_channel(session: Session, order: PaymentOrder) -> bool:
    """The shopper switches channels: the open order is closed first, so one down payment cannot be
    paid twice (False if the channel says it was paid meanwhile)."""
    if not get_channel(order.channel).close(order.out_trade_no):
        return False
    mark_unpaid(session, order, "closed", "replaced by an order on another channel")
    return True
