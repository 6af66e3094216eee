"""How a synthetic shopper pays once the phone is theirs: the one model behind the demo history and `fenqi simulate`.

A shopper is drawn per loan from a seeded `random.Random` (one roll for the behaviour, then that
behaviour's own parameters, always in the same order, so a seed gives the same shoppers on every
database), and turned into dated actions by `schedule`; `act` carries one action out through servicing.

Behaviours and their shares (`MODEL`):

- on time: pays every installment on its due date;
- late: pays every installment the same number of days after its due date (a few days to over two months,
  so the book has loans in every delinquency bucket);
- partial: pays only part (40-90%) of what is owed each time, so arrears and penalties build up;
- payoff: pays the whole loan off early, 20-150 days after signing;
- prepay: pays off a third of the principal once (shorter term or lower installment), on time otherwise;
- return: returns the phone within the 7-day no-reason window (the loan is cancelled);
- default: pays the first few installments (none to three) and then stops.

The demo history and the simulation both read `MODEL` when they run (a test that swaps it sees both
move); neither keeps a copy of the shares.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from fenqi.servicing.service import amount_due, apply_repayment, cancel_loan, get_loan, is_open, payoff_quote
from fenqi.servicing.service import write_off as servicing_write_off

Behaviour = Literal["on_time", "late", "partial", "payoff", "prepay", "return", "default"]
Action = Literal["pay", "payoff", "prepay", "return", "write_off"]
CHANNELS = ("alipay", "wechatpay")


@dataclass(frozen=True)
class ShopperModel:
    # (behaviour, share); the shares add up to 1 (the last behaviour takes any rounding rest).
    mix: tuple[tuple[Behaviour, float], ...] = (
        ("on_time", 0.52),
        ("late", 0.15),
        ("partial", 0.06),
        ("payoff", 0.08),
        ("prepay", 0.04),
        ("return", 0.03),
        ("default", 0.12),
    )
    late_days: tuple[int, ...] = (4, 8, 15, 25, 40, 70)  # how late a late shopper pays (one of these)
    partial_percent: tuple[int, int] = (40, 90)  # share of what is owed a partial payer pays (a range, %)
    payoff_after_days: tuple[int, int] = (20, 150)  # early payoff, days after signing (a range)
    prepay_after_days: tuple[int, int] = (20, 150)
    return_within_days: tuple[int, int] = (1, 6)  # inside the 7-day no-reason return window
    default_paid_periods: tuple[int, int] = (0, 3)  # installments a defaulter pays before stopping

    def __post_init__(self) -> None:
        if abs(sum(share for _, share in self.mix) - 1) > 1e-9:
            raise ValueError("the behaviours' shares add up to 1")


MODEL = ShopperModel()


@dataclass
class Shopper:
    behaviour: Behaviour
    delay: int = 0  # days after each due date the shopper pays
    percent: int = 100  # share of what is owed paid each time
    stop_after: int | None = None  # the last period paid (None: every period)
    after: int | None = None  # payoff, prepay or return: days after signing
    prepay_choice: str = "shorter_term"


def draw(rng: random.Random, model: ShopperModel | None = None) -> Shopper:
    """One shopper (the model in force, `MODEL`, unless one is given)."""
    model = model or MODEL
    roll, acc = rng.random(), 0.0
    behaviour = model.mix[-1][0]
    for name, share in model.mix:
        acc += share
        if roll < acc:
            behaviour = name
            break
    s = Shopper(behaviour)
    if behaviour == "late":
        s.delay = rng.choice(model.late_days)
    elif behaviour == "partial":
        s.percent = rng.randint(*model.partial_percent)
    elif behaviour == "payoff":
        s.after = rng.randint(*model.payoff_after_days)
    elif behaviour == "prepay":
        s.after = rng.randint(*model.prepay_after_days)
        s.prepay_choice = rng.choice(("shorter_term", "lower_installment"))
    elif behaviour == "return":
        s.after, s.stop_after = rng.randint(*model.return_within_days), 0
    elif behaviour == "default":
        s.stop_after = rng.randint(*model.default_paid_periods)
    return s


def schedule(shopper: Shopper, signed_on: date, due_dates: list[date]) -> list[tuple[date, Action]]:
    """The shopper's actions on a loan signed on `signed_on` with installments due on `due_dates`
    (period 1 first), in date order."""
    out: list[tuple[date, Action]] = []
    for period, due in enumerate(due_dates, start=1):
        if shopper.stop_after is not None and period > shopper.stop_after:
            break
        out.append((due + timedelta(days=shopper.delay), "pay"))
    if shopper.after is not None and shopper.behaviour in ("payoff", "prepay", "return"):
        out.append((signed_on + timedelta(days=shopper.after), shopper.behaviour))
    return sorted(out, key=lambda a: a[0])


def stops_paying(shopper: Shopper, due_dates: list[date]) -> date | None:
    """The due date of the first installment a defaulter leaves unpaid (None: pays to the end)."""
    if shopper.behaviour != "default" or shopper.stop_after is None or shopper.stop_after >= len(due_dates):
        return None
    return due_dates[shopper.stop_after]


def act(session: Session, loan_id: int, what: Action, shopper: Shopper, today: date, *, ref: str,
        rng: random.Random) -> bool:
    """Carry one action out through servicing, as the shopper's payment (or the return) would arrive;
    False when there was nothing to do (the loan closed meanwhile, nothing owed)."""
    loan = get_loan(session, loan_id)
    if not is_open(loan):
        return False
    if what == "write_off":
        servicing_write_off(session, loan_id, today=today)
        return True
    if what == "return":
        # The no-reason return unwinds the loan (what the shopper paid becomes refundable credit).
        cancel_loan(session, loan_id, return_ref=ref)
        return True
    channel = rng.choice(CHANNELS)
    if what == "pay":
        amount, purpose = amount_due(session, loan_id, today) * shopper.percent // 100, "installment"
    elif what == "payoff":
        amount, purpose = payoff_quote(session, loan_id).total, "payoff"
    elif loan.oldest_unpaid_due is None:  # prepay: only a shopper who is up to date
        amount, purpose = max(100, loan.principal_outstanding_fen // 3), "prepayment"
    else:
        return False
    if amount <= 0:
        return False
    apply_repayment(session, loan_id=loan_id, amount_fen=amount, payment_ref=ref, channel=channel, purpose=purpose,
                    prepayment_choice=shopper.prepay_choice)
    return True
