"""Demo users: one for every role, with the sign-in lines `fenqi demo` prints. The catalog's demo seed
creates them right after the demo merchants, and passes in the merchant the clerk and the owner work for
(identity knows no merchants)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.identity.models import User
from fenqi.identity.roles import LABELS, MERCHANT_ROLES, SHOPPER
from fenqi.identity.service import create_user, user_by_phone

DEMO_PASSWORD = "fenqi-demo"
DEMO_SHOPPER_PHONE = "13800138000"
# (role, username, display name)
DEMO_STAFF = (
    ("clerk", "clerk", "李店员"),
    ("merchant_owner", "owner", "王老板"),
    ("risk_officer", "risk", "赵风控"),
    ("collector", "collector", "钱催收"),
    ("collection_lead", "lead", "吴主管"),
    ("finance", "finance", "孙财务"),
    ("admin", "admin", "周管理员"),
)


def seed_demo_users(session: Session, *, merchant_id: int | None) -> list[str]:
    """Create the demo users that are missing (`merchant_id`: the clerk's and the owner's merchant) and
    return the sign-in lines."""
    lines = [f"sign in: staff at /login/staff (password {DEMO_PASSWORD}), shoppers at /login"]
    for role, username, name in DEMO_STAFF:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(session, role=role, display_name=name, username=username, password=DEMO_PASSWORD,
                        merchant_id=merchant_id if role in MERCHANT_ROLES else None)
        zh, en = LABELS[role]
        lines.append(f"  {en} {zh}: {username} / {DEMO_PASSWORD}")
    if user_by_phone(session, DEMO_SHOPPER_PHONE) is None:
        create_user(session, role=SHOPPER, display_name="张小明", phone=DEMO_SHOPPER_PHONE)
    zh, en = LABELS[SHOPPER]
    lines.append(f"  {en} {zh}: {DEMO_SHOPPER_PHONE} + SMS code (on the page, in /ops/notifications)")
    return lines
