"""Every page passes axe-core (the accessibility engine browsers' own tools use) with no serious or critical
violation: missing labels, too little contrast, buttons without a name, tables without headers, a page
without a language. The pages are read from the app's routes (as tests/test_page_errors.py does), so a page
added later is checked too; each is opened in Debian's Chromium by the kind of user who uses it, over a
small shop with one sold loan, its after-sales case and an approved application (pages that need a record the
shop does not have are left out). axe-core's script ships inside the `axe-playwright-python` package:
nothing is fetched at run time."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from fenqi.kit.db import session_scope
from tests.test_page_errors import page_routes

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")
SHOPPER_PHONE = "13900139000"  # conftest's browser shopper: the sold loan is theirs
# Not pages a person reads: a poll answering JSON, images and downloads (PNG, CSV, PDF).
NOT_HTML = re.compile(r"(/status$|\.(png|csv|pdf)$|\.\{fmt\}$|^/logout$)")
# Who opens which pages: the first prefix that matches; any other page is the shopper's.
OWNERS: tuple[tuple[str, str], ...] = (
    ("/login", "anonymous"), ("/device/", "anonymous"), ("/", "anonymous"), ("/calculator", "anonymous"),
    ("/merchant", "clerk"),
    ("/ops/risk", "risk_officer"), ("/ops/reviews", "risk_officer"),
    ("/ops/cases", "collection_lead"), ("/ops/collections", "collection_lead"), ("/ops/overdue", "collector"),
    ("/ops/reconciliation", "finance"), ("/ops/funders", "finance"),
    ("/ops", "admin"),
)
# Pages that need a query to show anything: filled from the shop's records like path parameters.
QUERIES = {"/shop/apply": "?sku={code}&product=EI-12&term=12"}
USERS = ("anonymous", "shopper", "clerk", "risk_officer", "collector", "collection_lead", "finance", "admin")
# Pages whose {case_id} is a collection case (close-of-business opens those; the shop has none).
NO_RECORD = {"/ops/cases/{case_id}"}
# The error page, as people meet it: a phone that is not sold, a console page that does not exist.
ERROR_PAGES = {"anonymous": ["/shop/phones/no-such-phone"], "admin": ["/ops/no-such-page"]}


@dataclass(frozen=True)
class Shop:
    merchant_id: int
    ids: dict[str, list[str]]


def _owner(path: str) -> str:
    for prefix, who in OWNERS:
        if path == prefix or (prefix != "/" and path.startswith(prefix.rstrip("/") + "/")):
            return who
    return "shopper"


@pytest.fixture(scope="module")
def shop(live_server: str) -> Shop:
    """A small shop committed where the live server sees it: one walk-in sale to the browser shopper (with an
    after-sales case) and one approved application not yet signed (the decision and offer pages)."""
    from fenqi.aftersales.service import open_case
    from fenqi.identity.principal import Principal
    from fenqi.identity.service import create_user, user_by_phone
    from fenqi.origination import service, signing
    from fenqi.origination.schemas import ApplicationIn
    from fenqi.payments.service import loan_orders
    from tests.origination.world import build_world
    from tests.web_console.helpers import clerk_principal, sell

    with session_scope() as s:
        world = build_world(s, suffix="AX")
        sold = sell(s, world, phone=SHOPPER_PHONE)
        clerk = clerk_principal(s, world.merchant_id)
        signing.hand_over(s, sold, clerk)  # handed over: the receipt page shows it
        user = user_by_phone(s, SHOPPER_PHONE) or create_user(s, role="shopper", display_name="无障碍检查",
                                                              phone=SHOPPER_PHONE)
        shopper = Principal(user.id, "shopper", None, user.display_name)
        body = ApplicationIn.model_validate(world.body(phone=SHOPPER_PHONE))
        approved = service.submit(s, body, shopper, service.Origin(ip="127.0.0.1", device="test")).application
        case = open_case(s, clerk, requested="repair", reason="fault", imei=world.devices[0])
        orders = [order.out_trade_no for order in loan_orders(s, int(sold.loan_id))][:1]
        assert orders, "the sale has its down payment order (its page is checked)"
        ids = {"application_id": [str(sold.id), str(approved.id)], "loan_id": [str(sold.loan_id)],
               "decision_id": [str(sold.decision_id)], "code": [world.sku], "case_id": [str(case.id)],
               "out_trade_no": orders}
        return Shop(world.merchant_id, ids)


def _fill(url: str, ids: dict[str, list[str]]) -> list[str]:
    """The URL with each {name} replaced by each of the shop's records of that name."""
    match = re.search(r"\{([^}]+)\}", url)
    if match is None:
        return [url]
    return [filled for value in ids[match.group(1)]
            for filled in _fill(url[:match.start()] + value + url[match.end():], ids)]


def _pages(app: Any, shop: Shop, who: str) -> list[str]:
    urls = []
    for method, path, _ in page_routes(app):
        if method != "GET" or NOT_HTML.search(path) or _owner(path) != who or path in NO_RECORD:
            continue
        url = path + QUERIES.get(path, "")
        if all(name in shop.ids for name in re.findall(r"\{([^}]+)\}", url)):
            urls.extend(_fill(url, shop.ids))
    return urls + ERROR_PAGES.get(who, [])


def _signed_in_page(browser: Any, live_server: str, who: str, merchant_id: int) -> Any:
    from fenqi.identity.service import create_user, user_by_phone
    from fenqi.identity.sessions import SESSION_COOKIE, start_session

    mobile = who in ("shopper", "anonymous")
    context = browser.new_context(base_url=live_server, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 390, "height": 844} if mobile else {"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    if who != "anonymous":
        with session_scope() as s:
            user = user_by_phone(s, SHOPPER_PHONE) if who == "shopper" else None
            if user is None:
                user = create_user(s, role=who, display_name="无障碍检查", phone=SHOPPER_PHONE if who == "shopper"
                                   else None, merchant_id=merchant_id if who == "clerk" else None)
            token = start_session(s, user)
        context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": live_server, "httpOnly": True,
                              "sameSite": "Lax"}])
    return context.new_page()


def _report(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{url}:"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])}×)")
        for node in v["nodes"][:4]:
            lines.append(f"      {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            lines.append(f"        {node.get('failureSummary', '').replace(chr(10), ' ')[:240]}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def axe() -> Iterator[Any]:
    from axe_playwright_python.sync_playwright import Axe

    yield Axe()


@pytest.mark.parametrize("who", USERS)
def test_every_page_has_no_serious_accessibility_violation(
    who: str, shop: Shop, browser: Any, live_server: str, shared_app: Any, axe: Any
) -> None:
    urls = _pages(shared_app, shop, who)
    assert urls, f"no page for {who}"
    page = _signed_in_page(browser, live_server, who, shop.merchant_id)
    failures, opened = [], []
    try:
        for url in urls:
            response = page.goto(url)
            expected = 404 if "no-such" in url else 200
            assert response is not None and response.status == expected, (
                f"{who} {url}: {response and response.status} (a new page that needs a query or a record: "
                "add it to QUERIES or to the shop)")
            opened.append(url)
            results = axe.run(page, options={"resultTypes": ["violations"]})
            serious = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
            if serious:
                failures.append(_report(url, serious))
    finally:
        page.context.close()
    assert not failures, f"{len(failures)} of {len(opened)} pages fail axe-core for {who}:\n" + "\n".join(failures)
