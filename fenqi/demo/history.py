"""A believable past for the demo: walk-in sales over past business days, through the real services.

Every historical sale goes the way a live one does: the clerk's application (origination: KYC,
consents, risk decision, funder routing), manual review of referred cases by the risk officer, the
e-contract and signature (loan booked, IMEI bound, merchant paid), the down payment through the
payment service, then installments paid (or not) by each shopper's behaviour (`fenqi.demo.behaviour`,
the model `fenqi simulate` draws its shoppers from too), and close-of-business every night (due
amounts, penalties, buckets, write-offs after `write_off_days`). The result is a book with loans in
every state: active, overdue in several buckets, paid off, returned and written off.

Deterministic for a seed (`random.Random(seed)`, drawn in a fixed order). Runs in the caller's
transaction: close-of-business is given the session's connection, so it works in savepoints.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum import luhn
from stdnum.cn import ric

from fenqi.analytics.funnel import record_plan_view
from fenqi.catalog.service import list_merchants, list_stores, register_device, skus_oldest_first
from fenqi.demo import behaviour
from fenqi.demo.promotions import DemoPromotions
from fenqi.identity.principal import Principal
from fenqi.identity.service import create_user, first_with_role, principal_of
from fenqi.kit.clock import business_date, set_business_date
from fenqi.kit.db import utcnow
from fenqi.kit.errors import DomainError
from fenqi.kit.money import fmt_percent
from fenqi.origination import service as origination
from fenqi.origination import signing
from fenqi.origination.consents import CURRENT, ConsentKind
from fenqi.origination.schemas import ApplicationIn, ConsentIn
from fenqi.origination.service import Origin
from fenqi.payments import service as payments
from fenqi.risk.service import review
from fenqi.servicing import reporting as servicing_rep
from fenqi.servicing.cob_runs import close_day
from fenqi.servicing.service import installments

if TYPE_CHECKING:
    from fenqi.origination.models import Application

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
         "霞", "平", "刚", "桂英", "晓东", "子涵", "一鸣", "欣怡", "浩然", "思远", "雨桐", "嘉怡", "建国", "志强"]
REGIONS = ["310104", "310110", "310101", "440304", "440305", "320102", "330106", "110105", "510107", "420106"]
PHONE_PREFIXES = ("138", "139", "136", "135", "150", "151", "158", "186", "187", "177", "199")
WRITE_OFF_AFTER_DAYS = 100  # collections gives a defaulted loan up before COB's automatic write-off
ORIGIN = Origin(ip="10.0.0.8", device="门店收银台 / store till")
AT_SUBMIT = (ConsentKind.CREDIT_INQUIRY, ConsentKind.PERSONAL_INFO)
IMEI_BASE = 7_000_000  # demo IMEI serials above the catalog's own
# The demo products (fenqi.pricing.service.DEMO_PRODUCTS) and terms, weighted by how often shoppers pick them.
PLANS = (("EI-12", 12), ("EI-12", 12), ("EI-12", 6), ("EI-12", 24), ("EP-10", 12), ("FEE-060", 6), ("FEE-060", 12),
         ("IF-MERCHANT", 3), ("IF-MERCHANT", 6), ("IF-MERCHANT", 12), ("IF-MERCHANT", 12))


@dataclass
class HistoryReport:
    days: int
    applications: int = 0
    loans: int = 0
    referred_pending: int = 0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    loan_status: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        states = ", ".join(f"{k} {v}" for k, v in sorted(self.loan_status.items()))
        return (f"history: {self.applications} applications and {self.loans} loans over {self.days} business "
                f"days ({states}); {self.referred_pending} waiting in the review queue; {self.seconds:.1f} s")


def _archived_contract(terms: Any) -> bytes:
    """A light PDF for historical demo contracts (contract number, amounts and APR in a core font).

    The real renderer embeds a subset of the Noto CJK collection, seconds per document: fine for one
    live signature, far too slow for hundreds of past ones at demo start-up.
    """
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    q = terms.quote
    for text in (f"Installment contract {terms.contract_no} (demo archive)", f"Signed on {terms.signed_on}",
                 f"APR {fmt_percent(q.apr)}   term {q.request.term}   financed {q.financed}", f"IMEI {terms.imei}"):
        pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Hundreds of historical orders and payments would bury the demo's sign-in lines in info logs."""
    import logging

    import structlog

    saved = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        yield
    finally:
        structlog.configure(wrapper_class=saved)


@contextmanager
def archived_contracts() -> Iterator[None]:
    real = signing.render_contract
    signing.render_contract = _archived_contract
    try:
        yield
    finally:
        signing.render_contract = real


class History:
    def __init__(self, session: Session, *, seed: int, clerks: dict[int, Principal], reviewer: Principal) -> None:
        self.session = session
        self.rng = random.Random(seed)
        self.clerks = clerks
        self.reviewer = reviewer
        self.stores = list_stores(session)
        self.skus = skus_oldest_first(session)
        self.serial = IMEI_BASE
        self.people = 0
        self.actions: dict[date, list[tuple[int, behaviour.Action]]] = defaultdict(list)
        self.shoppers: dict[int, behaviour.Shopper] = {}
        self.promotions = DemoPromotions(session, seed=seed, clerks=clerks)

    # --- people ------------------------------------------------------------------------------------

    def _imei(self) -> str:
        self.serial += 1
        body = f"86{self.serial:012d}"
        return body + luhn.calc_check_digit(body)

    def _person(self, today: date) -> dict[str, Any]:
        rng = self.rng
        self.people += 1
        birth = date(rng.randint(1968, 2003), rng.randint(1, 12), rng.randint(1, 28))
        if (today - birth).days < 19 * 365:
            birth = date(2000, birth.month, birth.day)
        body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randint(100, 999):03d}"
        card = f"622202{self.people:012d}"
        return {
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
            "id_number": body + ric.calc_check_digit(body + "0"),
            "phone": f"{rng.choice(PHONE_PREFIXES)}{self.people:08d}",
            "bank_card": card + luhn.calc_check_digit(card),
            "profile": {
                "employment": rng.choice(("employed", "employed", "employed", "self_employed")),
                "occupation": rng.choice(("skilled", "skilled", "professional", "unskilled")),
                "employment_years": rng.randint(0, 15), "monthly_income": f"{rng.randrange(4000, 30000, 500)}.00",
                "housing": rng.choice(("rent", "own", "mortgage", "family")), "residence_years": rng.randint(0, 12),
                "bank_account": rng.choice(("salary", "salary", "low_balance", "none")),
                "savings": rng.choice(("none", "lt_5k", "5k_20k", "20k_50k")),
                "assets": rng.choice(("none", "car", "real_estate", "insurance")),
                "dependants": rng.randint(0, 3), "existing_credits": rng.randint(0, 3),
                "existing_loans": rng.choice((0, 0, 0, 1, 2)),
            },
        }

    # --- one sale ----------------------------------------------------------------------------------

    def sale(self, today: date, report: HistoryReport, *, keep_referred: bool) -> None:
        store = self.rng.choice(self.stores)
        sku = self.rng.choice(self.skus)
        product, term = self.rng.choice(PLANS)
        imei = register_device(self.session, imei=self._imei(), sku_code=sku.code, store_id=store.id).imei
        # 20-40% down, rounded up to 100 yuan: above every product's minimum.
        down = -(-sku.price_fen * self.rng.choice((20, 25, 30, 40)) // 100 // 10_000) * 100
        person = self._person(today)
        promoted = self.promotions.extras(today, merchant_id=store.merchant_id, store_id=store.id,
                                          sku_code=sku.code, product=product, phone=person["phone"])
        body = ApplicationIn(
            store=store.code, sku=sku.code, imei=imei, product=product, term=term, down_payment=f"{down}.00",
            consents=[ConsentIn(kind=k.value, version=CURRENT[k]) for k in AT_SUBMIT],
            **person, **promoted,
        )
        clerk = self.clerks[store.merchant_id]
        # The clerk showed the plan menu a few minutes before the application; every other shopper had
        # already looked once before, earlier that day.
        minutes = 3 + self.people * 7 % 20
        for n in range(1 + self.people % 2):
            record_plan_view(self.session, channel="store", price_fen=sku.price_fen, sku_code=sku.code,
                             merchant_id=store.merchant_id, store_id=store.id, clerk_user_id=clerk.user_id, on=today,
                             at=utcnow() - timedelta(minutes=minutes * (1 + 6 * n)))
        try:
            with self.session.begin_nested():
                result = origination.submit(self.session, body, clerk, ORIGIN)
        except DomainError:
            return  # a plan the product does not offer for this price, and the like: the shopper walks away
        report.applications += 1
        app = result.application
        report.outcomes[result.decision.outcome] += 1
        if app.status == "referred":
            if keep_referred:
                report.referred_pending += 1
                return
            self._review(app, approve=self.rng.random() < 0.65)
        if app.status != "approved":
            return
        if self.rng.random() < 0.07:  # a few approved shoppers change their minds at the till
            origination.cancel(self.session, app)
            return
        self._sign(app, today, clerk, report)

    def _review(self, app: Application, *, approve: bool) -> None:
        note = "收入证明核实，通过" if approve else "负债偏高，拒绝"
        review(self.session, int(app.decision_id or 0), approve=approve, note=note, reviewer_id=self.reviewer.user_id)

    def _sign(self, app: Application, today: date, clerk: Principal, report: HistoryReport) -> None:
        if not origination.plan_allowed(app):
            self._allowed_plan(app)  # the clerk offers what the decision allows (a shorter term, say)
        try:
            with self.session.begin_nested():
                contract = signing.generate_contract(self.session, app)
                signed = signing.sign(self.session, app, contract_sha256=contract.sha256,
                                      consent_version=CURRENT[ConsentKind.E_CONTRACT], imei=None, channel="alipay",
                                      principal=clerk, origin=ORIGIN)
        except DomainError:
            # Over the credit limit whatever the plan, a funder out of quota: the shopper leaves without the phone.
            if app.status == "approved":
                origination.cancel(self.session, app)
            return
        report.loans += 1
        if signed.payment is not None:
            # Paid on its simulated day (not at seeding time): a day's statement covers its own payments.
            paid_at = min(datetime.now(UTC), datetime.combine(today, dtime(10), ZoneInfo("Asia/Shanghai")))
            pay_order(self.session, signed.payment["out_trade_no"], paid_at=paid_at)
        self._plan_payments(signed.loan_id, today)

    def _allowed_plan(self, app: Application) -> None:
        for plan in app.allowed_plans:
            for term in sorted(plan["terms"], reverse=True):
                try:
                    with self.session.begin_nested():
                        origination.change_plan(self.session, app, product=plan["product_code"], term=term,
                                            down_payment=None)
                except DomainError:
                    continue
                if origination.plan_allowed(app):
                    return

    def _plan_payments(self, loan_id: int, today: date) -> None:
        shopper = self.shoppers[loan_id] = behaviour.draw(self.rng)
        dues = [row.due_date for row in installments(self.session, loan_id)]
        for when, what in behaviour.schedule(shopper, today, dues):
            self.actions[when].append((loan_id, what))
        stopped = behaviour.stops_paying(shopper, dues)
        if stopped is not None:
            self.actions[stopped + timedelta(days=WRITE_OFF_AFTER_DAYS)].append((loan_id, "write_off"))

    # --- the shoppers pay --------------------------------------------------------------------------

    def pay_due(self, today: date) -> None:
        for loan_id, what in self.actions.pop(today, []):
            behaviour.act(self.session, loan_id, what, self.shoppers[loan_id], today,
                          ref=f"demo-{what}-{loan_id}-{today.isoformat()}", rng=self.rng)


def pay_order(session: Session, out_trade_no: str, *, paid_at: datetime | None = None) -> None:
    """The shopper paid at the cashier (at `paid_at`, default now): the order is claimed paid and settled
    as a channel notice would."""
    order = payments.get_order(session, out_trade_no)
    trade_no = f"DEMO{order.id:010d}"
    claim = getattr(payments, "claim_paid", None)
    if claim is None:  # the older single-step form
        payments.mark_paid(session, order, trade_no=trade_no, paid_at=paid_at, amount_fen=order.amount_fen)
        return
    claimed = claim(session, order.out_trade_no, order.channel, trade_no=trade_no, paid_at=paid_at,
                    amount_fen=order.amount_fen)
    if claimed is not None:
        payments.settle(session, claimed)


def _principals(session: Session) -> tuple[dict[int, Principal], Principal]:
    """A clerk for every demo merchant (created when the merchant has none) and the risk officer."""
    clerks: dict[int, Principal] = {}
    for merchant in list_merchants(session):
        clerk = first_with_role(session, "clerk", merchant.id)
        if clerk is None:
            # No password: the history's clerk never signs in (and argon2 costs a second per hash).
            clerk = principal_of(create_user(session, role="clerk", display_name=f"{merchant.name} 店员",
                                             username=f"clerk.{merchant.code.lower()}", merchant_id=merchant.id))
        clerks[merchant.id] = clerk
    officer = first_with_role(session, "risk_officer")
    if officer is None:
        officer = principal_of(create_user(session, role="risk_officer", display_name="风控",
                                           username="risk.history"))
    return clerks, officer


def build_history(session: Session, *, days: int = 200, per_day: float = 2.6, seed: int = 6,
                  pending_days: int = 3) -> HistoryReport:
    """Live `days` business days up to the current business date (which stays open: today's sales)."""
    started = time.perf_counter()
    today = business_date(session)
    start = today - timedelta(days=days)
    report = HistoryReport(days)
    clerks, reviewer = _principals(session)
    world = History(session, seed=seed, clerks=clerks, reviewer=reviewer)
    set_business_date(session, start)
    world.promotions.campaigns(start, today)
    with archived_contracts(), quiet_logs():
        _live(session, world, report, start, today, per_day, pending_days)
    loans = servicing_rep.loans()
    counts = session.execute(select(loans.c.status, func.count()).group_by(loans.c.status)).all()
    report.loan_status = {str(status): int(n) for status, n in counts}
    report.seconds = time.perf_counter() - started
    return report


def _live(session: Session, world: History, report: HistoryReport, start: date, today: date, per_day: float,
          pending_days: int) -> None:
    days = (today - start).days
    day = start
    while day <= today:
        # Busier at weekends, and the shop grows a little over time.
        rate = per_day * (1.5 if day.weekday() >= 5 else 1.0) * (0.7 + 0.6 * (day - start).days / max(days, 1))
        n = int(rate) + (1 if world.rng.random() < rate - int(rate) else 0)
        for _ in range(n):
            world.sale(day, report, keep_referred=(today - day).days < pending_days)
        world.pay_due(day)
        if day == today:
            break
        session.flush()
        close_day(session.connection(), day)
        session.expire_all()  # close-of-business changed loans with set-based SQL
        day += timedelta(days=1)
