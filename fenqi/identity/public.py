"""The only endpoints anyone may call without signing in, each with the reason it is public.

Everything else must depend on `require_roles(...)` or `current_principal`; the role × route matrix
test (tests/identity/test_identity_route_matrix.py) walks every route of the app and fails on any route that is
neither protected nor listed here, and on any entry here that no longer matches a route. Keep it short.
"""

from __future__ import annotations

PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/"): "home page: the shop (phones with prices and plans from ¥X/月); no personal data",
    ("GET", "/calculator"): "the plan calculator for any price; no personal data, shoppers compare before signing in",
    ("GET", "/healthz"): "liveness probe for load balancers; reveals only the version",
    ("GET", "/openapi.json"): "the API description merchants integrate against",
    ("GET", "/docs"): "interactive API documentation",
    ("GET", "/docs/oauth2-redirect"): "part of the interactive API documentation",
    ("GET", "/redoc"): "API documentation",
    ("POST", "/api/v1/quotes"): "prices one plan from numbers only; no personal data",
    ("GET", "/api/v1/plans"): "the plan menu for a price; no personal data",
    ("GET", "/api/v1/products"): "the installment products' published terms; no personal data",
    ("GET", "/api/v1/catalog/skus"): "the phones on sale with prices and stock; shoppers browse before signing in",
    ("GET", "/api/v1/catalog/skus/{code}"): "one phone on sale (as above)",
    ("GET", "/api/v1/consents/texts"): "the consent texts in force: anyone may read what they would agree to",
    ("GET", "/shop"): "the shopper's phone catalog with prices and plans from ¥X/月; no personal data",
    ("GET", "/s/{token}"): "a clerk's share link: counts the visit and redirects to a phone or plan; no personal data",
    ("GET", "/shop/phones/{code}"): "the plan chooser of one phone (APR, payments, schedules); no personal data",
    ("GET", "/login"): "shopper sign-in form",
    ("GET", "/legal/terms"): "the terms of service agreed to at sign-in: anyone may read what they would agree to",
    ("GET", "/legal/privacy"): "the privacy policy agreed to at sign-in (as above)",
    ("POST", "/login/code"): "sends a one-time code (CSRF-checked, rate-limited per number)",
    ("GET", "/login/verify"): "one-time code form",
    ("POST", "/login/verify"): "checks a one-time code (CSRF-checked, attempts limited)",
    ("GET", "/login/staff"): "staff sign-in form",
    ("POST", "/login/staff"): "checks a staff password (CSRF-checked, account locks after failures)",
    ("POST", "/api/v1/payments/callbacks/alipay"): "Alipay's notifications; RSA2 signature verified, forged → 400",
    ("POST", "/api/v1/payments/callbacks/wechatpay"): "WeChat Pay's notifications; signature verified, forged → 401",
    ("GET", "/payments/orders/{out_trade_no}"): "cashier page of one order: amount and status only, unguessable id",
    ("POST", "/api/v1/devices/checkin"): "the phone's lock agent: authenticated by its own device token and IMEI, "
                                         "not a user; replayed counters refused",
    ("GET", "/api/v1/devices/public-key"): "the key check-in answers are signed with; agents verify offline",
    ("GET", "/device/lock-screen"): "the lock screen the agent shows: device token and IMEI headers, else 401",
}

# Path prefixes served by mounts (static files), public as a whole.
PUBLIC_PREFIXES: dict[str, str] = {
    "/static": "stylesheets, scripts, images and fonts of the pages",
    "/_emulator": "local payment gateway emulators (demo and tests; never mounted in production)",
}


def is_public(method: str, path: str) -> bool:
    return (method.upper(), path) in PUBLIC or any(
        path == p or path.startswith(p + "/") for p in PUBLIC_PREFIXES
    )
