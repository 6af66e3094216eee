"""An experiment's figures from known data: exposures, signed applications and their loans' snapshots written
straight into the tables, every count, rate and p-value worked out by hand; exposure and linking through the
service (the same shopper keeps the arm first shown)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.catalog.service import create_merchant, create_store
from fenqi.experiments import service
from fenqi.experiments.arms import arm_for, parse_arms
from fenqi.experiments.errors import ExperimentState
from fenqi.experiments.models import Exposure
from fenqi.experiments.results import results
from fenqi.identity.service import create_user
from fenqi.kit.clock import set_business_date
from fenqi.origination.models import Application
from fenqi.pricing.service import get_product, seed_products
from fenqi.servicing.models import Loan, LoanDayBalance

D = Decimal
TODAY = date(2026, 9, 30)
SEEN = datetime(2026, 3, 1, 2, tzinfo=UTC)
ARMS = [{"code": "A", "weight": 50, "order": "term_asc", "highlight": "recommended"},
        {"code": "B", "weight": 50, "order": "term_desc", "highlight": "cheapest"}]


class Shop:
    def __init__(self, session: Session) -> None:
        set_business_date(session, TODAY)
        seed_products(session)
        m = create_merchant(session, code="XM", name="实验数码", region="31", fee_rate=D("0.02"))
        self.merchant = m.id
        self.store = create_store(session, merchant_id=m.id, code="XS", name="实验一店", city="上海").id
        self.session = session
        self.n = 0

    def user(self) -> int:
        self.n += 1
        return int(create_user(self.session, role="shopper", display_name=f"顾客{self.n}").id)

    def signed(self, user: int, at: datetime, dpd: dict[int, int] | None = None, status: str = "signed") -> None:
        """An application of `user` signed at `at` with its loan booked that day; `dpd` maps days after
        booking to the days past due of a snapshot then."""
        self.n += 1
        booked = at.date()
        loan = Loan(external_ref=f"XP-{self.n}", product_id=get_product(self.session, "EI-12").id,
                    method="equal-installment", financed_fen=300_000, price_fen=400_000, term=12, start_date=booked,
                    booked_on=booked, cob_date=TODAY, cur_period_start=booked, apr=D("0.12"))
        self.session.add(loan)
        self.session.flush()
        for days, late in (dpd or {}).items():
            self.session.add(LoanDayBalance(
                business_date=booked + timedelta(days=days), loan_id=loan.id, status="overdue", dpd=late,
                bucket="M2", principal_fen=300_000, interest_accrued_fen=0, interest_receivable_fen=0,
                fee_accrued_fen=0, fee_receivable_fen=0, penalty_fen=0, credit_fen=0, written_off_fen=0))
        self._app(user, at, status, loan_id=loan.id if status == "signed" else None,
                  signed_at=at if status == "signed" else None)

    def _app(self, user: int, at: datetime, status: str, **extra: Any) -> None:
        self.session.add(Application(
            status=status, channel="online", merchant_id=self.merchant, store_id=self.store, region="310104",
            shopper_user_id=user, business_date=at.date(), name_enc="x", id_number_enc="x", id_hash=f"xp-{self.n}",
            phone_enc="x", phone_hash=f"xp-{self.n}", bank_card_enc="x", age=30, profile={}, sku_code="XP-SKU",
            price_fen=400_000, product_code="EI-12", method="equal-installment", term=12, down_payment_fen=100_000,
            financed_fen=300_000, installment_fen=1, apr=D("0.12"), outcome="approve", created_at=at, **extra))

    def expose(self, experiment_id: int, arm: str, subject: str, user: int | None) -> None:
        self.session.add(Exposure(experiment_id=experiment_id, arm=arm, subject=subject, user_id=user,
                                  first_seen_at=SEEN, business_date=SEEN.date()))


def test_results_per_arm_by_hand(session: Session) -> None:
    shop = Shop(session)
    exp = service.create(session, code="MENU-T", name_zh="排序实验", name_en="Order test", arms=ARMS,
                         actor_user_id=None)
    service.start(session, "MENU-T", actor_user_id=None)
    after, before = SEEN + timedelta(days=2), SEEN - timedelta(days=2)
    # Arm A: five shoppers and a visitor who never applied.
    a = [shop.user() for _ in range(5)]
    for u in a:
        shop.expose(exp.id, "A", f"u:{u}", u)
    shop.expose(exp.id, "A", "v:visitor", None)
    shop.signed(a[0], after)  # converts, stays current
    shop.signed(a[1], after, {30: 5, 60: 35})  # converts, 35 dpd 60 days after booking: early delinquent
    shop.signed(a[2], before)  # signed before seeing the menu: not a conversion
    shop.signed(a[3], after, status="declined")  # not signed
    # Arm B: four shoppers.
    b = [shop.user() for _ in range(4)]
    for u in b:
        shop.expose(exp.id, "B", f"u:{u}", u)
    shop.signed(b[0], after)  # two loans, one shopper converted
    shop.signed(b[0], after + timedelta(days=1), {150: 30})  # 30 dpd only after 150 days: not early
    shop.signed(b[1], after, {90: 45})  # early delinquent (day 90)
    session.flush()
    service.stop(session, "MENU-T", actor_user_id=None)
    stopped = service.get(session, "MENU-T").stopped_at
    assert stopped is not None
    shop.signed(b[2], stopped + timedelta(days=40))  # long after the stop: not counted
    session.flush()

    control, other = results(session, service.get(session, "MENU-T"))
    assert (control.arm.code, control.exposed, control.linked, control.signed) == ("A", 6, 5, 2)
    assert (control.loans, control.early_bad) == (2, 1)
    assert control.conversion == D("0.3333") and control.early_rate == D("0.5")
    assert control.conversion_test is None and control.early_test is None
    assert (other.arm.code, other.exposed, other.linked, other.signed, other.loans, other.early_bad) == (
        "B", 4, 4, 2, 3, 1)
    assert other.conversion == D("0.5") and other.early_rate == D("0.3333")
    # Conversion 2/6 vs 2/4: pooled 4/10 = 0.4, se = √(0.4·0.6·(1/6 + 1/4)) = √0.1 = 0.316228,
    # z = (0.5 − 0.333333) / 0.316228 = 0.527046, p = 2·(1 − Φ(0.527)) = 0.5982.
    assert other.conversion_test is not None
    assert other.conversion_test.z == D("0.5270") and other.conversion_test.p_value == D("0.5982")
    # Early delinquency 1/2 vs 1/3: pooled 2/5, se = √(0.4·0.6·(1/2 + 1/3)) = √0.2 = 0.447214,
    # z = (0.333333 − 0.5) / 0.447214 = −0.372678, p = 0.7094.
    assert other.early_test is not None
    assert other.early_test.z == D("-0.3727") and other.early_test.p_value == D("0.7094")


def test_exposure_is_stable_recorded_once_and_follows_the_shopper_when_linked(session: Session) -> None:
    shop = Shop(session)
    assert service.expose(session, subject="u:1", user_id=None) is None  # nothing runs: no exposure
    service.create(session, code="MENU-S", name_zh="稳定实验", name_en="", arms=ARMS, actor_user_id=None)
    service.start(session, "MENU-S", actor_user_id=None)
    arms = parse_arms(ARMS)
    user = shop.user()
    first = service.expose(session, subject=f"u:{user}", user_id=user, sku_code="P-1")
    again = service.expose(session, subject=f"u:{user}", user_id=user, sku_code="P-2")
    assert first is not None and again is not None and first.arm == again.arm == arm_for("MENU-S", f"u:{user}", arms)
    assert session.scalar(select(func.count()).select_from(Exposure).where(Exposure.user_id == user)) == 1
    # A visitor whose hash gives the other arm than their account's, seen first, then applies and signs in:
    # the account keeps the arm the visitor saw.
    newcomer = shop.user()
    visitor = next(f"v:{n}" for n in range(100) if arm_for("MENU-S", f"v:{n}", arms) != arm_for(
        "MENU-S", f"u:{newcomer}", arms))
    seen = service.expose(session, subject=visitor, user_id=None)
    assert seen is not None
    assert service.link_visitor(session, subject=visitor, user_id=newcomer) == 1
    later = service.expose(session, subject=f"u:{newcomer}", user_id=newcomer)
    assert later is not None and later.arm == seen.arm
    # The account already has its own exposure: another visitor's row is not linked to it.
    service.expose(session, subject="v:other", user_id=None)
    assert service.link_visitor(session, subject="v:other", user_id=newcomer) == 0


def test_start_and_stop_follow_the_states(session: Session) -> None:
    Shop(session)
    service.create(session, code="RUN-1", name_zh="一", name_en="", arms=ARMS, actor_user_id=None)
    service.create(session, code="RUN-2", name_zh="二", name_en="", arms=ARMS, actor_user_id=None)
    with pytest.raises(ExperimentState):
        service.stop(session, "RUN-1", actor_user_id=None)  # not started
    service.start(session, "RUN-1", actor_user_id=None)
    with pytest.raises(ExperimentState) as caught:
        service.start(session, "RUN-2", actor_user_id=None)  # one at a time on the plan menu
    assert "RUN-1" in caught.value.message("zh")
    service.stop(session, "RUN-1", actor_user_id=None)
    with pytest.raises(ExperimentState):
        service.start(session, "RUN-1", actor_user_id=None)  # a stopped experiment does not restart
    assert service.start(session, "RUN-2", actor_user_id=None).status == "running"
    # Two starts at once pass the check before either writes: the database refuses the second.
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from fenqi.experiments.models import Experiment

    service.create(session, code="RUN-3", name_zh="三", name_en="", arms=ARMS, actor_user_id=None)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(update(Experiment).where(Experiment.code == "RUN-3").values(status="running"))


def test_the_demo_experiment_counts_every_shopper_of_the_history(session: Session) -> None:
    from fenqi.experiments import seed

    shop = Shop(session)
    buyers = [shop.user() for _ in range(3)]
    for u in buyers:
        shop.signed(u, SEEN)
    shop.signed(buyers[0], SEEN + timedelta(days=3), {40: 31})  # a second loan, early delinquent
    session.flush()
    if session.scalar(select(func.count()).select_from(Application).where(
            Application.shopper_user_id.not_in(buyers))):
        pytest.skip("the database holds other applications")
    assert seed.seed(session) == ["experiments: DEMO-MENU-ORDER with 9 shoppers shown the plan menu"]
    rows = results(session, service.get(session, seed.CODE))
    assert sum(r.exposed for r in rows) == 9 and sum(r.signed for r in rows) == 3 and sum(r.linked for r in rows) == 3
    assert sum(r.loans for r in rows) == 4 and sum(r.early_bad for r in rows) == 1
    assert seed.seed(session) == []  # once
