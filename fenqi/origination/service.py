"""Origination: an application from SKU and plan, through KYC, consents and the credit decision, to routing.

Signing (contract, loan, IMEI, disbursement, down payment) is in fenqi.origination.signing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from fenqi.catalog.reporting import training_merchants
from fenqi.catalog.service import is_training, sale_context
from fenqi.catalog.stock import check_device_for_sale, release_reservation, reserve_device
from fenqi.funding.errors import NoFunderAvailable, QuotaExhausted
from fenqi.funding.service import route
from fenqi.identity.deps import Principal, ensure_merchant
from fenqi.kit.clock import business_date
from fenqi.kit.crypto import blind_index, decrypt, encrypt, mask_card, mask_id_number, mask_name, mask_phone
from fenqi.kit.db import utcnow
from fenqi.kit.errors import DomainError, Forbidden, InvalidInput, NotFound
from fenqi.kit.money import fmt_rate, fmt_yuan, from_fen, parse_yuan, to_fen
from fenqi.origination.consents import CURRENT, TEXTS, ConsentKind
from fenqi.origination.errors import (
    ApplicationAlreadyOpen,
    ApplicationState,
    ConsentMissing,
    ConsentOutdated,
)
from fenqi.origination.kyc import check_bank_card, check_id_number, check_mobile, check_name
from fenqi.origination.models import OPEN_STATUSES, Application, Consent
from fenqi.origination.plans import coupon_cost, price_plan, subsidy_for
from fenqi.origination.schemas import ApplicationIn
from fenqi.pricing.menu import PlanOption
from fenqi.promotions import coupons, share_links
from fenqi.promotions import service as promotions
from fenqi.promotions.coupons import CouponTerms
from fenqi.promotions.errors import CampaignBudgetSpent, CampaignUnavailable, CouponNotForPractice
from fenqi.risk.schemas import Decision, RiskInput
from fenqi.risk.service import decide, get_decision

STAFF_SEEING_ALL = ("risk_officer", "finance", "collector", "admin")
REQUIRED_AT_SUBMIT = (ConsentKind.CREDIT_INQUIRY, ConsentKind.PERSONAL_INFO)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a step came from, for consent records."""

    ip: str
    device: str


# Why an approved application cannot go ahead on its plan: no funder takes it, or its campaign can't.
NOT_FUNDED = (QuotaExhausted, NoFunderAvailable, CampaignUnavailable, CampaignBudgetSpent)


@dataclass(slots=True)
class Submitted:
    application: Application
    decision: Decision
    funding_error: DomainError | None = None  # one of NOT_FUNDED


# --- access ------------------------------------------------------------------------------------


def get_application(session: Session, application_id: int, principal: Principal | None = None) -> Application:
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound.saying(f"申请 {application_id}", f"application {application_id}")
    if principal is not None:
        check_access(principal, app)
    return app


def application_for_loan(session: Session, loan_id: int) -> Application | None:
    """The signed application a loan was booked from (the phone, the store, the shopper, the channel)."""
    return session.scalar(select(Application).where(Application.loan_id == loan_id))


def check_access(principal: Principal, app: Application) -> None:
    """Shoppers see their own applications; clerks and owners their merchant's; risk, finance, admin all."""
    if principal.role in STAFF_SEEING_ALL:
        return
    if principal.role == "shopper":
        if app.shopper_user_id != principal.user_id:
            raise Forbidden()
        return
    ensure_merchant(principal, app.merchant_id)


# --- consents ----------------------------------------------------------------------------------


def check_consents(given: list[tuple[str, str]], required: tuple[ConsentKind, ...]) -> dict[ConsentKind, str]:
    """Each required consent given separately, for the text version currently in force."""
    versions: dict[ConsentKind, str] = {}
    for kind, version in given:
        if kind in ConsentKind._value2member_map_:
            versions[ConsentKind(kind)] = version
    for kind in required:
        if kind not in versions:
            raise ConsentMissing(kind.value)
        if versions[kind] != CURRENT[kind]:
            raise ConsentOutdated(versions[kind], current=CURRENT[kind])
    return {k: versions[k] for k in required}


def record_consent(
    session: Session, app: Application, kind: ConsentKind, version: str, origin: Origin, user_id: int | None,
    document_sha256: str | None = None,
) -> Consent:
    text = TEXTS[(kind, version)]
    consent = Consent(application_id=app.id, kind=kind.value, text_version=version, text_sha256=text.sha256,
                      document_sha256=document_sha256, agreed_at=utcnow(), ip=origin.ip[:64],
                      device=origin.device[:200], user_id=user_id)
    session.add(consent)
    return consent


# --- submission --------------------------------------------------------------------------------


def _insert_open(session: Session, fields: dict[str, Any]) -> Application:
    """INSERT … ON CONFLICT (open_key) DO NOTHING RETURNING: the unique constraint admits one open
    application per ID number. A concurrent twin waits for the first transaction, then inserts nothing
    and is refused; no exception, so the caller's transaction stays usable (and it is one round trip)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Application).values(**fields).on_conflict_do_nothing(index_elements=["open_key"])
    app = session.scalars(stmt.returning(Application)).first()
    if app is None:
        raise ApplicationAlreadyOpen()
    return app


def _open_loans(session: Session, id_hash: str) -> int:
    """Loans this person holds on the platform: signed applications (servicing closes them at payoff)."""
    return session.scalar(
        select(func.count()).select_from(Application).where(
            Application.id_hash == id_hash, Application.status == "signed",
            Application.merchant_id.not_in(training_merchants()))  # practice loans are nobody's
    ) or 0


def clerk_activity(session: Session, merchant_id: int, since: datetime | None) -> list[ClerkSale]:
    """One merchant's applications (since a time) by the staff member who made each: how far it went.
    A training store's checklist reads it."""
    a = Application
    q = select(a.created_by_user_id, a.status, a.outcome, a.down_payment_paid).where(
        a.merchant_id == merchant_id, a.created_by_user_id.is_not(None))
    if since is not None:
        q = q.where(a.created_at >= since)
    return [ClerkSale(int(uid or 0), status, outcome, bool(paid)) for uid, status, outcome, paid in session.execute(q)]


def cancel_open(session: Session, merchant_id: int) -> int:
    """Cancel a merchant's open applications (their phones go back on the shelf): a training store's reset."""
    apps = list(session.scalars(select(Application).where(Application.merchant_id == merchant_id,
                                                         Application.status.in_(OPEN_STATUSES))))
    for app in apps:
        close(session, app, "cancelled")
    session.flush()
    return len(apps)


@dataclass(frozen=True, slots=True)
class ClerkSale:
    user_id: int
    status: str
    outcome: str | None
    down_payment_paid: bool


def replayed(session: Session, principal: Principal, idempotency_key: str | None) -> Submitted | None:
    """The application an earlier request with the same Idempotency-Key created, if any."""
    if not idempotency_key:
        return None
    app = session.scalar(select(Application).where(Application.idempotency_key == scoped_key(principal,
                                                                                              idempotency_key)))
    if app is None or app.decision_id is None:
        return None
    return Submitted(app, get_decision(session, app.decision_id))


def scoped_key(principal: Principal, idempotency_key: str) -> str:
    return f"{principal.user_id}:{idempotency_key.strip()[:100]}"


def submit(
    session: Session, body: ApplicationIn, principal: Principal, origin: Origin, idempotency_key: str | None = None
) -> Submitted:
    """Validate, store (encrypted), decide and route one application. Does not commit."""
    again = replayed(session, principal, idempotency_key)
    if again is not None:
        return again
    today = business_date(session)
    # Everything that can be refused is checked before anything is written.
    shopper = _kyc(body, today)
    profile = _profile(body)
    consents = check_consents([(c.kind, c.version) for c in body.consents], REQUIRED_AT_SUBMIT)
    store, merchant, sku = sale_context(session, body.store, body.sku)
    if principal.role != "shopper":
        ensure_merchant(principal, store.merchant_id)
    online = principal.role == "shopper"
    if body.coupon and merchant.training:
        # Every coupon sits in a real shopper's account: a practice sale must never redeem one.
        raise CouponNotForPractice()
    # At the till, a coupon is the account's of the shopper's phone number (looked up only for a coupon).
    owner = principal.user_id if online else coupons.owner_of_phone(session, shopper.phone) if body.coupon else None
    coupon = _coupon(session, body, owner=owner, merchant_id=merchant.id, price_fen=sku.price_fen, on=today)
    option = price_plan(session, price_fen=sku.price_fen, product_code=body.product, term=body.term,
                        down_payment=body.down_payment, start=today, coupon=coupon)
    if body.imei:
        check_device_for_sale(session, body.imei, sku.code, merchant_id=merchant.id)
    app = _insert_open(session, dict(
        idempotency_key=scoped_key(principal, idempotency_key) if idempotency_key else None,
        status="submitted", open_key=shopper.id_hash, channel="online" if online else "store",
        merchant_id=merchant.id, store_id=store.id, region=merchant.region, created_by_user_id=principal.user_id,
        shopper_user_id=principal.user_id if online else None, business_date=today, age=shopper.age,
        profile=profile, sku_code=sku.code, price_fen=sku.price_fen, created_at=utcnow(), updated_at=utcnow(),
        credit_limit_fen=0, reasons=[], allowed_plans=[], subsidy_fen=0, down_payment_paid=False,
        **shopper.encrypted(), **plan_fields(option),
    ))
    for kind, version in consents.items():
        record_consent(session, app, kind, version, origin, principal.user_id)
    if coupon is not None:
        coupons.claim(session, app.id, coupon)
    if body.share:
        share_links.attribute(session, application_id=app.id, token=body.share, merchant_id=merchant.id)
    if body.imei:
        app.device_imei = reserve_device(session, imei=body.imei, sku_code=sku.code, application_id=app.id,
                                         merchant_id=merchant.id).imei
    decision = decide(session, risk_input_of(session, app))
    result = Submitted(app, decision)
    apply_decision(session, result, option, today, coupon=coupon)
    session.flush()
    return result


def _coupon(session: Session, body: ApplicationIn, *, owner: int | None, merchant_id: int, price_fen: int,
            on: date) -> CouponTerms | None:
    if not body.coupon:
        return None
    return coupons.usable(session, body.coupon, owner_user_id=owner, merchant_id=merchant_id,
                          product_code=body.product, term=body.term, price_fen=price_fen, on=on)


@dataclass(frozen=True, slots=True)
class Shopper:
    """The checked identity of the person applying (held only in memory; stored encrypted)."""

    name: str
    id_number: str
    id_hash: str
    age: int
    phone: str
    bank_card: str

    def encrypted(self) -> dict[str, str]:
        return {"name_enc": encrypt(self.name), "id_number_enc": encrypt(self.id_number), "id_hash": self.id_hash,
                "phone_enc": encrypt(self.phone), "phone_hash": blind_index(self.phone),
                "bank_card_enc": encrypt(self.bank_card)}


def _kyc(body: ApplicationIn, today: date) -> Shopper:
    name = check_name(body.name)
    resident = check_id_number(body.id_number, today)
    return Shopper(name, resident.number, blind_index(resident.number), resident.age_on(today),
                   check_mobile(body.phone), check_bank_card(body.bank_card))


def _profile(body: ApplicationIn) -> dict[str, Any]:
    """The scorecard's form fields, the income in fen."""
    income = parse_yuan(body.profile.monthly_income, field="monthly_income")
    if income < 0:
        raise InvalidInput("monthly_income", zh="请填写大于 0 的月收入（元）",
                           en="Enter your monthly income above 0 (yuan)")
    profile = body.profile.model_dump(exclude={"monthly_income"})
    profile["monthly_income_fen"] = to_fen(income)
    return profile


def plan_fields(option: PlanOption) -> dict[str, Any]:
    q = option.quote
    return {
        "product_code": option.product.code, "method": q.request.method.value, "term": q.request.term,
        "down_payment_fen": to_fen(q.request.down_payment), "financed_fen": to_fen(q.financed),
        "installment_fen": to_fen(max(i.total for i in q.installments)), "apr": q.apr,
    }


def risk_input_of(session: Session, app: Application) -> RiskInput:
    """The application as the risk engine sees it (its plan as it stands now)."""
    p = app.profile
    return RiskInput(
        age=app.age, is_full_time_student=p["is_full_time_student"] or p["employment"] == "student",
        employment=p["employment"], occupation=p["occupation"], employment_years=p["employment_years"],
        monthly_income_fen=p["monthly_income_fen"], housing=p["housing"], residence_years=p["residence_years"],
        bank_account=p["bank_account"], savings=p["savings"], assets=p["assets"], dependants=p["dependants"],
        existing_credits=p["existing_credits"], existing_loans=p["existing_loans"],
        open_loans=_open_loans(session, app.id_hash), price_fen=app.price_fen, financed_fen=app.financed_fen,
        installment_fen=app.installment_fen, term=app.term, product_code=app.product_code, id_hash=app.id_hash,
        phone_hash=app.phone_hash, device_imei=app.device_imei, application_id=app.id,
        merchant_id=app.merchant_id, channel=app.channel, training=is_training(session, app.merchant_id),
    )


def close(session: Session, app: Application, status: str) -> None:
    """An application leaves the open states: the person may apply again, the reserved phone goes back."""
    app.status = status
    app.open_key = None
    if status != "signed":
        release_reservation(session, application_id=app.id)
        promotions.release(session, app.id)
    else:
        promotions.use(session, app.id)


def apply_decision(session: Session, result: Submitted, option: PlanOption, today: date, *,
                   coupon: CouponTerms | None) -> None:
    """The decision on an application just submitted (with `coupon`, claimed in this transaction)."""
    app, decision = result.application, result.decision
    app.decision_id = decision.id
    app.outcome = decision.outcome
    app.grade = decision.grade
    app.credit_limit_fen = decision.credit_limit_fen
    app.reasons = [r.model_dump() for r in decision.reasons]
    app.allowed_plans = [p.model_dump() for p in decision.allowed_plans]
    if decision.outcome == "decline":
        close(session, app, "declined")
    elif decision.outcome == "refer":
        app.status = "referred"
    else:
        app.status = "approved"
        try:
            with session.no_autoflush:  # one UPDATE of the application at the end, not one per step
                route_application(session, app, option, today, new=Fresh(coupon))
        except NOT_FUNDED as exc:
            result.funding_error = exc
            close(session, app, "unfunded")


@dataclass(frozen=True, slots=True)
class Fresh:
    """An application submitted in this transaction: its coupon is known and it holds no subsidy yet, so
    routing it need not read them back (two queries fewer on the busiest path)."""

    coupon: CouponTerms | None


def route_application(session: Session, app: Application, option: PlanOption, today: date, *,
                      new: Fresh | None = None) -> None:
    """Place an approved application with a funding partner under the routing policy in force."""
    training = is_training(session, app.merchant_id)
    chosen = route(session, application_id=app.id, method=app.method, term=app.term, grade=app.grade or "E",
                   region=app.region, amount_fen=app.financed_fen, on=today, training=training)
    app.funder_code = chosen.funder_code
    app.funder_rate = chosen.annual_rate
    campaign_fen = to_fen(subsidy_for(option, chosen.annual_rate))
    # A coupon's cost is the sponsoring merchant's too, withheld from the disbursement with the rest.
    coupon = coupons.claimed(session, app.id) if new is None else new.coupon
    coupon_fen = 0 if coupon is None else to_fen(coupon_cost(
        current_option(session, app, today, without_coupon=True), option, chosen.annual_rate))
    app.subsidy_fen = campaign_fen + coupon_fen
    if training:  # practice never spends a real campaign's budget
        return
    # A campaign's plan: the merchant's subsidy comes out of the campaign's budget (given back on close).
    if new is None:
        promotions.release(session, app.id)  # a changed plan gives back what the old one took
    promotions.charge(session, application_id=app.id, merchant_id=app.merchant_id, product_code=app.product_code,
                      sku_code=app.sku_code, store_id=app.store_id, term=app.term, on=today,
                      subsidy_fen=campaign_fen, holds_nothing=new is not None)


def apply_review(session: Session, decision: Decision) -> Application | None:
    """A risk officer decided a referred application: approve (and route) or decline it."""
    app = session.scalar(select(Application).where(Application.decision_id == decision.id))
    if app is None or app.status != "referred":
        return None
    if decision.review_status == "declined":
        close(session, app, "declined")
    elif decision.review_status == "approved":
        app.status = "approved"
        today = business_date(session)
        try:
            route_application(session, app, current_option(session, app, today), today)
        except NOT_FUNDED:
            close(session, app, "unfunded")
    session.flush()
    return app


def plan_allowed(app: Application) -> bool:
    """Risk-based pricing: the plan must be one the grade allows, and within the credit limit."""
    allowed = not app.allowed_plans or any(
        p["product_code"] == app.product_code and app.term in p["terms"] for p in app.allowed_plans
    )
    return allowed and app.financed_fen <= app.credit_limit_fen


def current_option(session: Session, app: Application, start: date, *, without_coupon: bool = False
                   ) -> PlanOption:
    """The application's plan priced on `start`, with the coupon it chose (unless `without_coupon`)."""
    chosen = None if without_coupon else coupons.claimed(session, app.id)
    return price_plan(session, price_fen=app.price_fen, product_code=app.product_code, term=app.term,
                      down_payment=fmt_yuan(from_fen(app.down_payment_fen)), start=start, coupon=chosen)


def change_plan(
    session: Session, app: Application, *, product: str, term: int, down_payment: Decimal | str | None
) -> None:
    """After approval, pick another plan within what the decision allows (e.g. a shorter term)."""
    if app.status != "approved":
        raise ApplicationState(app.status)
    today = business_date(session)
    coupon = coupons.still_fits(session, app.id, merchant_id=app.merchant_id, product_code=product, term=term,
                                price_fen=app.price_fen, on=today)
    option = price_plan(session, price_fen=app.price_fen, product_code=product, term=term,
                        down_payment=down_payment, start=today, coupon=coupon)
    for key, value in plan_fields(option).items():
        setattr(app, key, value)
    try:
        route_application(session, app, option, today)
    except NOT_FUNDED:
        app.funder_code = None
        raise
    session.flush()


def cancel(session: Session, app: Application) -> None:
    if app.status not in OPEN_STATUSES:
        raise ApplicationState(app.status)
    close(session, app, "cancelled")
    session.flush()


def list_applications(
    session: Session, principal: Principal, status: str | None = None, limit: int = 50
) -> list[Application]:
    query = select(Application).order_by(Application.id.desc()).limit(min(max(limit, 1), 200))
    if status:
        query = query.where(Application.status == status)
    if principal.role == "shopper":
        query = query.where(Application.shopper_user_id == principal.user_id)
    elif principal.role not in STAFF_SEEING_ALL:
        query = query.where(Application.merchant_id == principal.merchant_id)
    return list(session.scalars(query))


# --- views (personal data masked, always) ------------------------------------------------------


def masked_name(app: Application) -> str:
    return mask_name(decrypt(app.name_enc))


def application_json(app: Application) -> dict[str, Any]:
    return {
        "id": app.id, "status": app.status, "channel": app.channel, "business_date": app.business_date.isoformat(),
        "merchant_id": app.merchant_id, "store_id": app.store_id,
        "shopper": {
            "name": masked_name(app), "id_number": mask_id_number(decrypt(app.id_number_enc)),
            "phone": mask_phone(decrypt(app.phone_enc)), "bank_card": mask_card(decrypt(app.bank_card_enc)),
            "age": app.age,
        },
        "sku": app.sku_code, "imei": app.device_imei, "price": fmt_yuan(from_fen(app.price_fen)),
        "plan": {
            "product": app.product_code, "method": app.method, "term": app.term, "apr": fmt_rate(app.apr),
            "down_payment": fmt_yuan(from_fen(app.down_payment_fen)), "financed": fmt_yuan(from_fen(app.financed_fen)),
            "max_installment": fmt_yuan(from_fen(app.installment_fen)),
        },
        "decision": {
            "id": app.decision_id, "outcome": app.outcome, "grade": app.grade,
            "credit_limit": fmt_yuan(from_fen(app.credit_limit_fen)), "reasons": app.reasons,
            "allowed_plans": app.allowed_plans, "plan_allowed": plan_allowed(app) if app.outcome else None,
        },
        "funder": app.funder_code, "loan_id": app.loan_id, "payment_order": app.payment_order,
        "down_payment_paid": app.down_payment_paid,
        "signed_at": app.signed_at.isoformat() if app.signed_at else None,
    }


def consents_of(session: Session, application_id: int) -> list[Consent]:
    return list(session.scalars(select(Consent).where(Consent.application_id == application_id).order_by(Consent.id)))
