"""What would change a decline: other plans for the same shopper, each tried with the rules in force
(fenqi.risk.trial), and offered only when the rules would approve it outright — the smallest higher down
payment, the shortest longer term, the dearest cheaper phone that passes. Taking one submits a new
application with the declined one's details and consents: one click, nothing typed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from sqlalchemy.orm import Session

from fenqi.catalog.service import SkuView, get_store, list_skus
from fenqi.catalog.stock import device_in_stock, stores_with_stock
from fenqi.identity.deps import Principal
from fenqi.kit.clock import business_date
from fenqi.kit.crypto import decrypt
from fenqi.kit.errors import DomainError
from fenqi.kit.money import fmt_yuan, from_fen
from fenqi.kit.settings import get_settings
from fenqi.origination.errors import SuggestionUnavailable
from fenqi.origination.models import Application
from fenqi.origination.plans import price_plan
from fenqi.origination.schemas import ApplicationIn, ConsentIn, ProfileIn
from fenqi.origination.service import (
    REQUIRED_AT_SUBMIT,
    Origin,
    Submitted,
    consents_of,
    plan_fields,
    replayed,
    risk_input_of,
    submit,
)
from fenqi.pricing.menu import PlanOption
from fenqi.risk.trial import would_approve

KINDS = ("down_payment", "term", "model")
DOWN_STEPS = tuple(Decimal(pct) / 100 for pct in range(10, 100, 10))  # 10 %, 20 %, … of the price
MAX_MODELS = 12  # prices of cheaper phones tried, the dearest first


@dataclass(frozen=True, slots=True)
class Suggestion:
    kind: str  # down_payment | term | model
    sku_code: str
    product_code: str
    term: int
    price_fen: int
    down_payment_fen: int
    financed_fen: int
    installment_fen: int
    apr: Decimal

    @property
    def key(self) -> str:
        return f"{self.kind}|{self.sku_code}|{self.product_code}|{self.term}|{self.down_payment_fen}"


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: str
    sku_code: str
    price_fen: int
    option: PlanOption
    same_device: bool


def suggestions(session: Session, app: Application) -> list[Suggestion]:
    """At most one suggestion of each kind, for a declined application; none if no plan would pass."""
    if app.status != "declined" or app.decision_id is None:
        return []
    today = business_date(session)
    candidates = [*_longer_terms(session, app, today), *_higher_down_payments(session, app, today),
                  *_cheaper_phones(session, app, today)]
    if not candidates:
        return []
    base = risk_input_of(session, app).model_copy(update={"application_id": None})
    variants = []
    for c in candidates:
        fields = plan_fields(c.option)
        variants.append(base.model_copy(update={
            "price_fen": c.price_fen, "financed_fen": fields["financed_fen"],
            "installment_fen": fields["installment_fen"], "term": fields["term"],
            "product_code": fields["product_code"],
            "device_imei": base.device_imei if c.same_device else None,
        }))
    passed = would_approve(session, app.decision_id, variants)
    found: dict[str, Suggestion] = {}
    for c, ok in zip(candidates, passed, strict=True):
        if ok and c.kind not in found:  # each kind's candidates come in the order of preference
            found[c.kind] = _suggestion(c)
    return [found[k] for k in KINDS if k in found]


def _suggestion(c: _Candidate) -> Suggestion:
    fields = plan_fields(c.option)
    return Suggestion(kind=c.kind, sku_code=c.sku_code, product_code=fields["product_code"], term=fields["term"],
                      price_fen=c.price_fen, down_payment_fen=fields["down_payment_fen"],
                      financed_fen=fields["financed_fen"], installment_fen=fields["installment_fen"],
                      apr=fields["apr"])


def _priced(session: Session, price_fen: int, product: str, term: int, down: Decimal | None, today: date
            ) -> PlanOption | None:
    try:
        return price_plan(session, price_fen=price_fen, product_code=product, term=term,
                          down_payment=fmt_yuan(down) if down is not None else None, start=today)
    except DomainError:
        return None


def _longer_terms(session: Session, app: Application, today: date) -> list[_Candidate]:
    down = from_fen(app.down_payment_fen)
    out = []
    for term in sorted(t for t in get_settings().plan_terms if t > app.term):
        option = _priced(session, app.price_fen, app.product_code, term, down, today)
        if option is not None:
            out.append(_Candidate("term", app.sku_code, app.price_fen, option, True))
    return out


def _higher_down_payments(session: Session, app: Application, today: date) -> list[_Candidate]:
    """Round amounts (whole hundreds of yuan) at each tenth of the price above the current down payment."""
    price = from_fen(app.price_fen)
    out = []
    for share in DOWN_STEPS:
        down = (price * share / 100).to_integral_value(rounding=ROUND_CEILING) * 100
        if down <= from_fen(app.down_payment_fen) or down >= price:
            continue
        option = _priced(session, app.price_fen, app.product_code, app.term, down, today)
        if option is not None:
            out.append(_Candidate("down_payment", app.sku_code, app.price_fen, option, True))
    return out


def _cheaper_phones(session: Session, app: Application, today: date) -> list[_Candidate]:
    """Phones in stock for less (at the till: on this store's shelf), dearest first, on the same plan."""
    skus = sorted((s for s in list_skus(session) if s.price_fen < app.price_fen and s.stock > 0),
                  key=lambda s: (-s.price_fen, s.code))
    if app.channel == "store":
        skus = [s for s in skus if device_in_stock(session, sku_code=s.code, store_id=app.store_id) is not None]
    by_price: dict[int, SkuView] = {}
    for sku in skus:  # phones of one price pass or fail alike: one of each price is tried
        by_price.setdefault(sku.price_fen, sku)
    down = from_fen(app.down_payment_fen)
    out = []
    for sku in list(by_price.values())[:MAX_MODELS]:
        option = (_priced(session, sku.price_fen, app.product_code, app.term, down, today)
                  or _priced(session, sku.price_fen, app.product_code, app.term, None, today))
        if option is not None:
            out.append(_Candidate("model", sku.code, sku.price_fen, option, False))
    return out


# --- taking one -----------------------------------------------------------------------------------------


def take(session: Session, app: Application, key: str, principal: Principal, origin: Origin) -> Submitted:
    """Apply again on a suggested plan, with the declined application's details and consents. Refused
    unless the plan is still one the rules would approve; a repeated click returns the same application."""
    again = replayed(session, principal, f"suggestion:{app.id}:{key}")
    if again is not None:  # a repeated click: the application the first one made
        return again
    chosen = next((s for s in suggestions(session, app) if s.key == key), None)
    if chosen is None:
        raise SuggestionUnavailable()
    store_code, imei = _pick_up(session, app, chosen.sku_code)
    profile = {k: v for k, v in app.profile.items() if k != "monthly_income_fen"}
    body = ApplicationIn(
        store=store_code, sku=chosen.sku_code, imei=imei, product=chosen.product_code, term=chosen.term,
        down_payment=fmt_yuan(from_fen(chosen.down_payment_fen)), name=decrypt(app.name_enc),
        id_number=decrypt(app.id_number_enc), phone=decrypt(app.phone_enc), bank_card=decrypt(app.bank_card_enc),
        profile=ProfileIn(**profile, monthly_income=fmt_yuan(from_fen(app.profile["monthly_income_fen"]))),
        consents=[ConsentIn(kind=c.kind, version=c.text_version) for c in consents_of(session, app.id)
                  if c.kind in {k.value for k in REQUIRED_AT_SUBMIT}],
        device=origin.device,
    )
    return submit(session, body, principal, origin, idempotency_key=f"suggestion:{app.id}:{key}")


def _pick_up(session: Session, app: Application, sku_code: str) -> tuple[str, str | None]:
    """Where the phone is picked up and which one is reserved: the same store if it has the phone. At the
    till the same phone stays on the counter; another model is scanned when it is handed over."""
    store = get_store(session, app.store_id)
    if app.channel == "store":
        return store.code, app.device_imei if sku_code == app.sku_code else None
    device = device_in_stock(session, sku_code=sku_code, store_id=store.id)
    if device is None:
        stores = stores_with_stock(session, sku_code)
        if not stores:
            raise SuggestionUnavailable()
        store = stores[0]
        device = device_in_stock(session, sku_code=sku_code, store_id=store.id)
    return store.code, device.imei if device is not None else None
