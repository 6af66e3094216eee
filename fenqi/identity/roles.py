"""The roles of Fenqi and what to call them on pages."""

from __future__ import annotations

SHOPPER = "shopper"
CLERK = "clerk"
MERCHANT_OWNER = "merchant_owner"
RISK_OFFICER = "risk_officer"
COLLECTOR = "collector"
COLLECTION_LEAD = "collection_lead"  # sees and assigns every collection case
FINANCE = "finance"
ADMIN = "admin"

ROLES: tuple[str, ...] = (SHOPPER, CLERK, MERCHANT_OWNER, RISK_OFFICER, COLLECTOR, COLLECTION_LEAD, FINANCE, ADMIN)
# Staff sign in with a username and a password; shoppers with their mobile number and a one-time code.
STAFF_ROLES: tuple[str, ...] = tuple(r for r in ROLES if r != SHOPPER)
# Roles that act for one merchant and therefore carry a merchant_id.
MERCHANT_ROLES: tuple[str, ...] = (CLERK, MERCHANT_OWNER)

LABELS: dict[str, tuple[str, str]] = {
    SHOPPER: ("消费者", "Shopper"),
    CLERK: ("门店店员", "Store clerk"),
    MERCHANT_OWNER: ("商户负责人", "Merchant owner"),
    RISK_OFFICER: ("风控专员", "Risk officer"),
    COLLECTOR: ("催收专员", "Collector"),
    COLLECTION_LEAD: ("催收主管", "Collections lead"),
    FINANCE: ("财务", "Finance"),
    ADMIN: ("管理员", "Administrator"),
}

# Where each role lands after signing in (falls back to /me while a console does not exist yet).
HOME: dict[str, str] = {
    SHOPPER: "/shop",
    CLERK: "/merchant",
    MERCHANT_OWNER: "/merchant",
    RISK_OFFICER: "/ops",
    COLLECTOR: "/ops",
    COLLECTION_LEAD: "/ops/cases",
    FINANCE: "/ops",
    ADMIN: "/ops",
}


def check_roles(roles: tuple[str, ...]) -> None:
    """Refuse an unknown role name at import time, so a typo cannot silently lock everyone out."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(unknown)}; known: {', '.join(ROLES)}")
