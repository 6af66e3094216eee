"""Demo data: one finished plan-menu experiment over the demo history, so that /ops/experiments shows figures.

Every shopper of the history is counted as shown the menu ten minutes before their first application, in the
arm the stable hash gives them, and twice as many visitors who never applied are spread over the same days;
conversion and early delinquency then come from the history's real applications and loans."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fenqi.experiments.arms import arm_for, parse_arms
from fenqi.experiments.models import Experiment, Exposure
from fenqi.origination import reporting as origination_rep

CODE = "DEMO-MENU-ORDER"
ARMS = [{"code": "A", "weight": 50, "order": "term_asc", "highlight": "recommended"},
        {"code": "B", "weight": 50, "order": "term_desc", "highlight": "term_12"}]
VISITORS_PER_SHOPPER = 2


def seed(session: Session) -> list[str]:
    if session.scalar(select(Experiment.id).limit(1)) is not None:
        return []
    a = origination_rep.applications()
    shoppers = session.execute(
        select(a.c.shopper_user_id, func.min(a.c.created_at), func.min(a.c.business_date))
        .where(a.c.shopper_user_id.is_not(None)).group_by(a.c.shopper_user_id).order_by(a.c.shopper_user_id)).all()
    if not shoppers:
        return []
    first, last = min(s[1] for s in shoppers), max(s[1] for s in shoppers)
    experiment = Experiment(code=CODE, name_zh="期数排序：短期在前与长期在前",
                            name_en="Term order: short or long first", arms=ARMS, status="stopped",
                            started_at=first - timedelta(days=1),
                            stopped_at=last + timedelta(hours=1))
    session.add(experiment)
    session.flush()
    arms = parse_arms(ARMS)
    for user_id, created_at, day in shoppers:
        subject = f"u:{user_id}"
        session.add(Exposure(experiment_id=experiment.id, arm=arm_for(CODE, subject, arms).code, subject=subject,
                             user_id=user_id, first_seen_at=created_at - timedelta(minutes=10), business_date=day))
    draw = random.Random(16)
    for n in range(len(shoppers) * VISITORS_PER_SHOPPER):
        _, created_at, day = shoppers[draw.randrange(len(shoppers))]
        subject = f"v:demo-{n}"
        session.add(Exposure(experiment_id=experiment.id, arm=arm_for(CODE, subject, arms).code, subject=subject,
                             user_id=None, first_seen_at=created_at - timedelta(hours=2), business_date=day))
    session.flush()
    return [f"experiments: {CODE} with {len(shoppers) * (1 + VISITORS_PER_SHOPPER)} shoppers shown the plan menu"]
