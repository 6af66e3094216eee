"""The offer, the e-contract and signing: loan booked, IMEI bound, merchant paid, down-payment order created."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.catalog.service import get_device, get_merchant, get_sku, get_store, hb_seller_percent, is_training
from fenqi.catalog.stock import bind_to_loan, check_device_for_sale, release_reservation, reserve_device
from fenqi.funding.disbursement import Paid, disburse, disbursement_of, merchant_fee_fen
from fenqi.funding.errors import QuotaExhausted
from fenqi.funding.service import consume_quota, get_funder, quota_left
from fenqi.identity.deps import Principal
from fenqi.identity.service import audit, notify, shopper_account_of
from fenqi.kit.clock import business_date
from fenqi.kit.crypto import decrypt, mask_id_number
from fenqi.kit.db import utcnow
from fenqi.kit.errors import InvalidInput, NotFound
from fenqi.kit.money import fmt_percent, fmt_rate, fmt_yuan, from_fen, to_fen
from fenqi.kit.settings import get_settings
from fenqi.origination.consents import CURRENT, ConsentKind
from fenqi.origination.contract_pdf import TEMPLATE_VERSION, ContractTerms, render_contract, render_document
from fenqi.origination.contract_text import Block, contract_blocks, with_borrower_name
from fenqi.origination.errors import (
    ApplicationState,
    ConsentOutdated,
    ContractMismatch,
    ContractTextMissing,
    DownPaymentUnpaid,
    PlanNotAllowed,
)
from fenqi.origination.models import Application, Contract
from fenqi.origination.plans import coupon_cost
from fenqi.origination.service import (
    Origin,
    close,
    current_option,
    masked_name,
    plan_allowed,
    record_consent,
    route_application,
)
from fenqi.payments.polling import refresh_order
from fenqi.payments.service import create_order, find_order
from fenqi.pricing.menu import PlanOption
from fenqi.pricing.platform import HB_TERMS
from fenqi.pricing.service import get_product
from fenqi.promotions import coupons
from fenqi.servicing.service import book_loan


def _require_signable(app: Application) -> None:
    if app.status != "approved":
        raise ApplicationState(app.status)
    if not plan_allowed(app):
        allowed = "; ".join(f"{p['product_code']}×{p['terms']}" for p in app.allowed_plans) or "-"
        raise PlanNotAllowed(limit=fmt_yuan(from_fen(app.credit_limit_fen)), allowed=allowed)


def offer(session: Session, app: Application) -> dict[str, Any]:
    """The plan as it would be signed today: full schedule, totals, and the APR ahead of any other rate."""
    _require_signable(app)
    option = current_option(session, app, business_date(session))
    q = option.quote.to_json()
    merchant = get_merchant(session, app.merchant_id)
    fee = merchant_fee_fen(app.financed_fen, merchant.fee_rate)
    return {
        "application_id": app.id,
        "apr": q["apr"],
        "apr_percent": fmt_percent(option.quote.apr),
        "product": {"code": option.product.code, "name": {"zh": option.product.name_zh, "en": option.product.name_en}},
        "funder": app.funder_code,
        "shopper": masked_name(app),
        **q,
        "total_cost": fmt_yuan(option.quote.total_cost),
        "merchant": {"subsidy": fmt_yuan(from_fen(app.subsidy_fen)), "fee": fmt_yuan(from_fen(fee)),
                     "disbursement": fmt_yuan(from_fen(app.financed_fen - app.subsidy_fen - fee))},
    }


def contract_no(app: Application) -> str:
    return f"FQ{app.business_date:%Y%m%d}{app.id:08d}"


def _ensure_funded(session: Session, app: Application, option: PlanOption) -> None:
    """The named funder must still have quota when the contract is drawn up; otherwise route again."""
    funder = get_funder(session, app.funder_code or "")
    today = business_date(session)
    if min(quota_left(session, funder, today)) < app.financed_fen:
        route_application(session, app, option, today)


def generate_contract(session: Session, app: Application) -> Contract:
    """Render the e-contract PDF for the current plan and funder; the latest one is the one to sign."""
    _require_signable(app)
    today = business_date(session)
    option = current_option(session, app, today)
    _ensure_funded(session, app, option)
    product = get_product(session, app.product_code)
    sku = get_sku(session, app.sku_code)
    merchant = get_merchant(session, app.merchant_id)
    store = get_store(session, app.store_id)
    terms = ContractTerms(
        contract_no=contract_no(app), signed_on=today, shopper_masked_name=masked_name(app),
        shopper_masked_id=mask_id_number(decrypt(app.id_number_enc)), merchant_name=merchant.name,
        store_name=store.name, funder_name=get_funder(session, app.funder_code or "").name, goods=sku.name_zh,
        imei=app.device_imei, product_name=product.name_zh, quote=option.quote,
        penalty_daily_rate=product.penalty_daily_rate, grace_days=product.grace_days,
        late_fee=from_fen(product.late_fee_fen), prepayment_fee_rate=product.prepayment_fee_rate,
    )
    pdf = render_contract(terms)  # drawn from the same blocks as the document kept beside it
    contract = Contract(application_id=app.id, template_version=TEMPLATE_VERSION,
                        sha256=hashlib.sha256(pdf).hexdigest(), pdf=pdf, funder_code=app.funder_code or "",
                        start_date=today, document=contract_blocks(terms))
    session.add(contract)
    session.flush()
    return contract


def latest_contract(session: Session, application_id: int) -> Contract | None:
    return session.scalar(
        select(Contract).where(Contract.application_id == application_id,
                               Contract.template_version.not_like("exchange-addendum%"))
        .order_by(Contract.id.desc()).limit(1)
    )


def contract_to_sign(session: Session, app: Application) -> tuple[Contract, bool]:
    """The contract the shopper reads and signs, and whether it was drawn up just now: one per business date
    and funder (a contract of an earlier date has a schedule that no longer starts today, and `sign` refuses
    it; a changed funder lends on other terms)."""
    contract = latest_contract(session, app.id)
    if contract is None or contract.start_date != business_date(session) or contract.funder_code != app.funder_code:
        return generate_contract(session, app), True
    return contract, False


def down_payment_as_now(session: Session, app: Application) -> Any:
    """The application's down-payment order as it stands now (None when there is none): a pending one is
    asked of its channel (`payments.polling.refresh_order`). The notification may have settled the order and
    flagged the application in one transaction since the application was read, so the application is read
    again, then the order: a paid application is never shown beside a pending order."""
    order = refresh_order(session, app.payment_order)
    session.refresh(app)
    if order is not None:
        session.refresh(order)
    return order


@dataclass(frozen=True, slots=True)
class Signed:
    application: Application
    contract: Contract
    loan_id: int
    disbursement: dict[str, str]
    payment: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "application_id": self.application.id, "status": self.application.status, "loan_id": self.loan_id,
            "imei": self.application.device_imei, "contract_sha256": self.contract.sha256,
            "funder": self.contract.funder_code, "disbursement": self.disbursement, "down_payment_order": self.payment,
        }


def sign(
    session: Session, app: Application, *, contract_sha256: str, consent_version: str, imei: str | None,
    channel: str, principal: Principal, origin: Origin, return_url: str = "", hb_fq_num: int | None = None,
) -> Signed:
    """`return_url`: where the channel's cashier sends the shopper after paying the down payment
    (the shopper's confirmation page; by default the payment order's own page). `hb_fq_num`: pay the
    down payment with 花呗分期 (Alipay, 3/6/12 periods; who pays the fee is the merchant's setting).
    Signing again with the same contract (a retried request) returns the first signature's result."""
    if app.status == "signed":
        return _already_signed(session, app, contract_sha256)
    _require_signable(app)
    contract = latest_contract(session, app.id)
    today = business_date(session)
    # A contract drawn up on an earlier business date has a schedule that no longer starts today.
    if contract is None or contract.sha256 != contract_sha256.lower() or contract.start_date != today:
        raise ContractMismatch()
    if consent_version != CURRENT[ConsentKind.E_CONTRACT]:
        raise ConsentOutdated(consent_version, current=CURRENT[ConsentKind.E_CONTRACT])
    if channel not in ("alipay", "wechatpay"):
        raise InvalidInput(f"channel {channel} (alipay | wechatpay)", zh="请选择支付宝或微信支付",
                           en="Choose Alipay or WeChat Pay")
    if hb_fq_num is not None and (channel != "alipay" or hb_fq_num not in HB_TERMS):
        raise InvalidInput(f"花呗分期 {channel} {hb_fq_num} (alipay, 3 | 6 | 12)",
                           zh="花呗分期只能通过支付宝，分 3、6 或 12 期",
                           en="Huabei installments are paid with Alipay, over 3, 6 or 12 periods")
    coupon = coupons.redeem(session, app.id, on=today)  # once: a second sale with it stops here
    _hand_over(session, app, imei)
    record_consent(session, app, ConsentKind.E_CONTRACT, consent_version, origin, principal.user_id,
                   document_sha256=contract.sha256)
    if not consume_quota(session, get_funder(session, contract.funder_code), app.financed_fen, today):
        raise QuotaExhausted(f"{contract.funder_code}; 请重新生成合同 / generate the contract again")
    training = is_training(session, app.merchant_id)
    if app.shopper_user_id is None and not training:  # practice opens no account for the phone number
        app.shopper_user_id = shopper_account(session, app)  # a till sale: the loan is the shopper's too
    loan_id = _book_loan(session, app, contract, training)
    bind_to_loan(session, imei=app.device_imei or "", application_id=app.id, loan_id=loan_id)
    paid = disburse(session, application_id=app.id, loan_id=loan_id, funder_code=contract.funder_code,
                    merchant_id=app.merchant_id, price_fen=app.price_fen, down_payment_fen=app.down_payment_fen,
                    subsidy_fen=app.subsidy_fen, on=today)
    if coupon is not None:
        coupons.record_cost(session, app.id, loan_id=loan_id, subsidy_fen=_coupon_fen(session, app, today))
    order = _down_payment_order(session, app, loan_id, channel, return_url, hb_fq_num, training)
    contract.signed = True
    app.loan_id = loan_id
    app.signed_at = utcnow()
    app.payment_order = order["out_trade_no"] if order else None
    close(session, app, "signed")
    audit(session, actor_user_id=principal.user_id or None, action="application.signed",
          subject=f"application:{app.id}", detail=f"loan:{loan_id} contract:{contract.sha256[:16]}")
    if app.channel == "store" and app.shopper_user_id is not None and not training:
        _text_loan_link(session, app, loan_id)
    session.flush()
    return Signed(app, contract, loan_id, _disbursement_json(app, paid), order)


def _coupon_fen(session: Session, app: Application, today: date) -> int:
    """The coupon's part of the subsidy withheld (the rest is a campaign's)."""
    return to_fen(coupon_cost(current_option(session, app, today, without_coupon=True),
                              current_option(session, app, today), app.funder_rate))


def _hand_over(session: Session, app: Application, imei: str | None) -> None:
    """The phone scanned at signing: the one reserved with the application, or another of the same SKU
    (the first goes back on the shelf)."""
    if not imei:
        if not app.device_imei:
            raise InvalidInput("imei", zh="签约前请先扫描交给顾客的手机的 IMEI",
                               en="Scan the IMEI of the phone handed over before signing")
        return
    scanned = get_device(session, imei).imei  # either IMEI of a dual-SIM phone names the device
    if scanned != app.device_imei:
        # Refused (another merchant's, another model, sold) before the reserved phone is let go.
        check_device_for_sale(session, scanned, app.sku_code, merchant_id=app.merchant_id)
        if app.device_imei:
            release_reservation(session, application_id=app.id)
        app.device_imei = reserve_device(session, imei=scanned, sku_code=app.sku_code, application_id=app.id,
                                         merchant_id=app.merchant_id).imei


def shopper_account(session: Session, app: Application) -> int | None:
    """The shopper's own account for a sale made at the till: the account of the application's phone
    number (created now if the shopper has none yet; only a sign-in code sent to that phone opens it, so the
    number is verified when it is used). Not linked when that account already holds loans of another
    ID number (a number passed on to someone else): the loan stays with the store until sorted out."""
    user = shopper_account_of(session, decrypt(app.phone_enc))
    if user is None:
        return None
    others = session.scalars(select(Application.id_hash).where(
        Application.shopper_user_id == user.id, Application.id_hash != app.id_hash).limit(1)).first()
    return None if others is not None else int(user.id)


def _text_loan_link(session: Session, app: Application, loan_id: int) -> None:
    """A text to the shopper after signing at the till: where to see the bills and repay."""
    sku = get_sku(session, app.sku_code)
    url = f"{get_settings().base_url.rstrip('/')}/shop/loans/{loan_id}"
    body = (f"【分期】您已签约分期购买{sku.name_zh}，共{app.term}期。用本手机号登录即可查看账单、还款：{url}")
    notify(session, channel="sms", to=decrypt(app.phone_enc), template="loan_signed", body=body)


def _disbursement_json(app: Application, paid: Paid) -> dict[str, str]:
    return {"amount": fmt_yuan(from_fen(paid.amount_fen)), "subsidy": fmt_yuan(from_fen(paid.subsidy_fen)),
            "merchant_fee": fmt_yuan(from_fen(paid.merchant_fee_fen)),
            "financed": fmt_yuan(from_fen(paid.financed_fen)), "apr": fmt_rate(app.apr)}


def _already_signed(session: Session, app: Application, contract_sha256: str) -> Signed:
    contract = latest_contract(session, app.id)
    paid = disbursement_of(session, app.id)
    if contract is None or not contract.signed or contract.sha256 != contract_sha256.lower() or paid is None:
        raise ApplicationState(app.status)
    order = find_order(session, app.payment_order) if app.payment_order else None
    payment = None if order is None else {
        "out_trade_no": order.out_trade_no, "status": order.status, "pay_url": order.pay_url,
        "amount": fmt_yuan(from_fen(order.amount_fen)), "channel": order.channel}
    return Signed(app, contract, int(app.loan_id or 0), _disbursement_json(app, paid), payment)


def _book_loan(session: Session, app: Application, contract: Contract, training: bool) -> int:
    """The loan at the plan's rates as signed (a coupon's, where the application has one)."""
    option = current_option(session, app, contract.start_date)

    loan = book_loan(
        session, external_ref=f"application:{app.id}", product_code=app.product_code,
        financed_fen=app.financed_fen, term=app.term, start_date=contract.start_date, price_fen=app.price_fen,
        down_payment_fen=app.down_payment_fen, merchant_id=app.merchant_id,
        funder_id=get_funder(session, contract.funder_code).id, customer_id=app.shopper_user_id, training=training,
        annual_rate=option.product.annual_rate, fee_rate=option.product.fee_rate,
    )
    return int(loan.id)


def _down_payment_order(
    session: Session, app: Application, loan_id: int, channel: str, return_url: str = "",
    hb_fq_num: int | None = None, training: bool = False,
) -> dict[str, Any] | None:
    if app.down_payment_fen <= 0:
        return None
    sku = get_sku(session, app.sku_code)
    percent = hb_seller_percent(session, app.merchant_id) if hb_fq_num is not None else 0
    order = create_order(session, purpose="down_payment", amount_fen=app.down_payment_fen, channel=channel,
                         subject=f"首付 {sku.name_zh}", loan_id=loan_id, application_id=app.id,
                         return_url=return_url, hb_fq_num=hb_fq_num, hb_fq_seller_percent=percent, training=training)
    return {"out_trade_no": order.out_trade_no, "status": order.status, "pay_url": order.pay_url,
            "amount": fmt_yuan(from_fen(app.down_payment_fen)), "channel": channel}


def hand_over(session: Session, app: Application, principal: Principal) -> Application:
    """交付: the phone given to the shopper at the till, once the loan is signed and the down payment has
    arrived. Recorded once (who, when, on which business date; a repeat changes nothing): the after-sales
    return and exchange windows count from the handover date."""
    if app.status != "signed":
        raise ApplicationState(app.status)
    if app.handed_over_at is not None:
        return app
    if app.down_payment_fen > 0 and not app.down_payment_paid:
        raise DownPaymentUnpaid()
    app.handed_over_at = utcnow()
    app.handed_over_on = business_date(session)
    app.handed_over_by = principal.user_id or None
    audit(session, actor_user_id=principal.user_id or None, action="application.handed_over",
          subject=f"application:{app.id}", detail=f"loan:{app.loan_id} imei:{app.device_imei}")
    session.flush()
    return app


@dataclass(frozen=True, slots=True)
class ContractCopy:
    """A contract as one reader may read it: its blocks (the borrower's own copy with the full name), its
    number and date, and the SHA-256 of the PDF that was drawn up (and signed, when `signed`)."""

    number: str
    on: date
    blocks: list[Block]
    sha256: str
    signed: bool
    borrower_copy: bool

    def pdf(self, stored: bytes) -> bytes:
        """The PDF with the same words: the stored one, or the borrower's copy drawn from the same blocks."""
        return render_document(self.blocks, self.number, self.on) if self.borrower_copy else stored


def contract_copy(session: Session, app: Application, reader: Principal) -> tuple[ContractCopy, Contract]:
    """The latest contract of an application the reader may see (checked by the caller): the borrower reads
    their own name in full, everyone else the masked name the signed PDF carries."""
    contract = latest_contract(session, app.id)
    if contract is None:
        raise NotFound.saying(f"申请 {app.id} 的合同", f"contract of application {app.id}")
    if not contract.document:
        raise ContractTextMissing()
    own = reader.role == "shopper" and reader.user_id is not None and reader.user_id == app.shopper_user_id
    blocks = with_borrower_name(contract.document, masked_name(app), decrypt(app.name_enc)) if own \
        else contract.document
    return ContractCopy(contract_no(app), contract.start_date, blocks, contract.sha256, contract.signed,
                        own), contract


def mark_down_payment_paid(session: Session, application_id: int) -> None:
    """Called when payments reports the down-payment order paid: the phone may be handed over."""
    app = session.get(Application, application_id)
    if app is not None:
        app.down_payment_paid = True
        session.flush()

