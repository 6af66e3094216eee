"""The Chinese pages speak Chinese: the main console and shopper pages, rendered in zh-CN over a small shop
with a sale, a referred application and an after-sales case, show no untranslated codes (snake_case names,
lowercase English words such as status codes), no ISO or UTC timestamps and no amount of a thousand yuan
or more without its thousands separator."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from fenqi.origination.models import Application
from tests.origination.world import World, clean_id_number
from tests.web_console.conftest import post_form, till_form
from tests.web_console.helpers import sell

# A code: a snake_case name, or a lowercase Latin word (not part of an address, a file name or a hex id).
CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|(?<![A-Za-z0-9.@/])[a-z]{3,}(?![A-Za-z0-9./@])")
# A catalog or product code (HWM70P-512-1, EI-12, FEE-060): capitals, then parts joined by hyphens, one with a
# digit; IMEIs, order numbers (FQ_…), dates and amounts do not look like this.
CATALOG_CODE = re.compile(r"(?<![\w./@-])[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d[A-Z0-9]*(?![\w./@-])")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\bUTC\b")
UNSEPARATED = re.compile(r"¥\s?-?\d{4,}|(?<![\d,.])\d{4,}\.\d{2}(?![\d.])")
HIDDEN = re.compile(r"<(script|style|textarea|template)\b.*?</\1>", re.S)
TAG = re.compile(r"<[^>]+>")
URL = re.compile(r"https?://\S+")


def visible_text(page: str) -> str:
    """What a person reads: the body without scripts, styles, tags and attributes."""
    body = page.split("<body", 1)[-1]
    return URL.sub(" ", html.unescape(TAG.sub(" ", HIDDEN.sub(" ", body))))


def offenders(page: str, codes_kept: bool = False) -> list[str]:
    """What a Chinese page should not show; `codes_kept` for the pages that list the catalog by its codes."""
    text = visible_text(page)
    codes = [*CODE.finditer(text), *(() if codes_kept else CATALOG_CODE.finditer(text))]
    found = [f"code {m.group()!r} in …{text[max(0, m.start() - 30):m.end() + 10]!r}" for m in codes]
    found += [f"time {m.group()!r}" for m in TIMESTAMP.finditer(text)]
    found += [f"amount {m.group()!r}" for m in UNSEPARATED.finditer(text)]
    return found


def test_the_main_chinese_pages_show_no_codes_utc_times_or_unseparated_amounts(
    world: World, session: Session, client: TestClient
) -> None:
    sale = sell(session, world)
    _coupon_and_share_link(session, world)

    def sign_in(role: str, merchant_id: int | None = None) -> TestClient:
        user = create_user(session, role=role, display_name="王店员" if merchant_id else "李运营",
                           merchant_id=merchant_id)
        client.cookies.set(SESSION_COOKIE, start_session(session, user))
        return client

    clerk = sign_in("clerk", world.merchant_id)
    referred = post_form(clerk, "/merchant/till", "/merchant/till",
                         till_form(world, monthly_income="1100.00", imei=world.devices[1],
                                   id_number=clean_id_number(date_of(1985)), phone="13912345678"))
    app = session.get(Application, int(referred.headers["location"].rsplit("/", 1)[1]))
    assert app is not None
    refused = post_form(clerk, "/merchant/till", "/merchant/till",
                        till_form(world, monthly_income="700.00", imei=world.devices[2],
                                  id_number=clean_id_number(date_of(1988)), phone="13912345679"))
    declined = session.get(Application, int(refused.headers["location"].rsplit("/", 1)[1]))
    assert declined is not None and declined.status == "declined"
    _campaign(session, world)
    case = _aftersales_case(session, sale)
    problems: dict[str, list[str]] = {}

    def scan(who: TestClient, path: str, codes_kept: bool = False) -> str:
        response = who.get(path, params={"lang": "zh"})
        assert response.status_code == 200, (path, response.status_code)
        if found := offenders(response.text, codes_kept):
            problems[path] = found
        return response.text

    for path in ("/merchant", "/merchant/applications", "/merchant/sales", "/merchant/huabei",
                 f"/merchant/applications/{app.id}",
                 f"/merchant/applications/{sale.id}", f"/merchant/applications/{declined.id}", "/merchant/till",
                 "/merchant/share-links", "/merchant/aftersales", "/merchant/campaigns",
                 f"/merchant/aftersales/{case.id}"):
        page = scan(clerk, path)  # phones and plans by their names, not their codes
        if path == "/merchant/campaigns":  # the budget is shown with its thousands separators
            assert "¥50,000.00" in visible_text(page), visible_text(page)[:800]
        if path.startswith("/merchant/aftersales/"):  # the policy the case follows, in words (not "version 0")
            assert "默认售后政策（三包规定）" in visible_text(page) and "版本 0" not in visible_text(page), \
                visible_text(page)[:800]
    admin = sign_in("admin")
    from fenqi.identity.service import audit

    for how in ("password", "sms_code"):  # the audit trail names how people signed in
        audit(session, actor_user_id=None, action="login", subject="user:1", detail=how)
    from fenqi.experiments import service as experiments

    experiments.create(session, code="MENU-1", name_zh="期数排序", name_en="Order", actor_user_id=None, arms=[
        {"code": "A", "weight": 1, "order": "term_asc", "highlight": "recommended"},
        {"code": "B", "weight": 1, "order": "recommended_first", "highlight": "term_12"}])
    experiments.start(session, "MENU-1", actor_user_id=None)
    from fenqi.collections.hardship_requests import request_hardship
    from fenqi.training import seed as training_seed

    training_seed.seed(session)
    request_hardship(session, loan_id=sale.loan_id, user_id=sale.shopper_user_id, kind="holiday", reason="失业了")
    for path in ("/ops", "/ops/experiments", "/ops/reviews", f"/ops/risk/decisions/{app.decision_id}", "/ops/loans",
                 f"/ops/loans/{sale.loan_id}", "/ops/products", "/ops/funders", "/ops/notifications",
                 "/ops/aftersales", "/ops/overdue", "/ops/audit", "/ops/dashboard", "/ops/reconciliation",
                 "/ops/coupons", "/ops/hardship", "/merchant/training"):
        # The plan catalogue, the experiments and the audit trail keep codes beside names; the risk record names
        # the plans it allows (not FEE-060, EI-12).
        page = scan(admin, path, path in ("/ops/products", "/ops/experiments", "/ops/audit"))
        if "/risk/" in path:  # the plans allowed, by name
            assert "等额本息 年化12% × 3/6/12/24 期" in visible_text(page), visible_text(page)[:1200]
        if path == "/ops/reviews":  # the referred application is on the queue, its phone and plan by name
            assert f"#{app.id}" in page and "iPhone 16" in page, visible_text(page)[:600]
    shopper = session.get(Application, sale.id)
    assert shopper is not None and shopper.shopper_user_id
    from fenqi.identity.models import User

    user = session.get(User, shopper.shopper_user_id)
    client.cookies.set(SESSION_COOKIE, start_session(session, user))
    for path in ("/", "/shop", f"/shop/phones/{world.sku}", "/shop/loans", f"/shop/loans/{sale.loan_id}",
                 f"/shop/applications/{sale.id}/done", "/shop/aftersales", "/shop/coupons", "/calculator",
                 f"/shop/loans/{sale.loan_id}/aftersales"):
        scan(client, path)
    assert "冬季减息券" in client.get("/shop/coupons").text  # the scanned pages had something to show
    # A form's refusal names what to do in Chinese, not the field's code (nor a generic "check the form").
    form = "/shop/complaints/new"
    said = {"请写下您遇到的问题": post_form(client, form, "/shop/complaints", {"category": "staff", "text": " "}),
            "请简要说明原因（2–1000 字）": post_form(client, form, f"/shop/loans/{sale.loan_id}/hardship",
                                                {"kind": "holiday", "reason": "x"})}
    said["请扫描手机的 IMEI"] = post_form(sign_in("clerk", world.merchant_id), "/merchant/aftersales",
                                      "/merchant/aftersales", {"imei": "", "requested": "repair"})
    for words, response in said.items():
        assert words in visible_text(response.text), (words, visible_text(response.text)[-400:])
        if found := offenders(response.text):
            problems[words] = found
    assert not problems, "\n".join(f"{path}: {found}" for path, found in problems.items())


def _coupon_and_share_link(session: Session, world: World) -> None:
    """The promotions pages with something on them: a coupon for the shopper, a share link of the clerk's."""
    from fenqi.catalog.service import get_store_by_code
    from fenqi.promotions import coupons, share_links
    from fenqi.promotions.schemas import CouponIssueIn, ShareLinkIn
    from tests.origination.world import TODAY

    coupons.issue(session, CouponIssueIn(
        batch="WINTER", kind="rate_cut", rate_cut="0.05", name_zh="冬季减息券", name_en="Winter rate cut",
        merchant_id=world.merchant_id, valid_from=TODAY, valid_to=TODAY, product_codes=["EI-12"], terms=[12],
        min_price="1000.00", phones=["13812345678"]))
    share_links.create(session, ShareLinkIn(sku=world.sku, product="EI-12", term=12,
                                            store_id=get_store_by_code(session, world.store).id),
                       merchant_id=world.merchant_id, clerk_user_id=None)


def _campaign(session: Session, world: World) -> None:
    """A campaign with a budget in the tens of thousands on the campaigns page (its code is the merchant's own)."""
    from datetime import timedelta

    from fenqi.promotions import service as promotions
    from fenqi.promotions.schemas import CampaignIn
    from tests.origination.world import TODAY

    promotions.create_campaign(session, CampaignIn(
        code="SPRING", name_zh="春季免息", name_en="Spring interest-free", product_code="IF-MERCHANT",
        starts_on=TODAY, ends_on=TODAY + timedelta(days=30), budget="50000.00"), merchant_id=world.merchant_id)


def _aftersales_case(session: Session, sale: Application) -> Any:
    """A return asked for by the shopper of the sale, under the default policy (the merchant has none of its own)."""
    from fenqi.aftersales.service import open_case
    from fenqi.identity.principal import Principal

    assert sale.shopper_user_id is not None
    who = Principal(sale.shopper_user_id, "shopper", None, "顾客")
    return open_case(session, who, requested="return", reason="no_reason", loan_id=sale.loan_id)


def date_of(year: int) -> object:
    from datetime import date

    return date(year, 6, 1)


def test_phones_are_named_as_their_makers_name_them() -> None:
    from fenqi.catalog.service import phone_title

    assert phone_title("Xiaomi", "Xiaomi 15") == "小米 15"
    assert phone_title("Xiaomi", "Xiaomi 15", "en") == "Xiaomi 15"
    assert phone_title("Huawei", "Mate 70 Pro") == "华为 Mate 70 Pro"
    assert phone_title("Xiaomi", "Redmi K80") == "Redmi K80"
    assert phone_title("Apple", "iPhone 16") == "Apple iPhone 16"


def test_english_console_pages_carry_no_chinese_labels(world: World, session: Session, client: TestClient) -> None:
    user = create_user(session, role="admin", display_name="Li Ming")
    client.cookies.set(SESSION_COOKIE, start_session(session, user))
    for path in ("/ops/products", "/ops/reviews", "/ops/overdue"):
        text = visible_text(client.get(path, params={"lang": "en"}).text).replace("中文", "")  # the language switch
        assert not re.search(r"[\u4e00-\u9fff]", text), (path, re.findall(r"\S*[\u4e00-\u9fff]+\S*", text))
