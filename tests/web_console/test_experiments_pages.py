"""The experiments page of the operations console through the real app: a risk officer creates a plan-menu
experiment, starts it, a shopper sees their arm's menu (the exposure recorded), the officer stops it and reads
the arm's figures; refusals are pages in the officer's language; finance may read but not start."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.experiments.arms import arm_for, parse_arms
from fenqi.experiments.models import Exposure
from fenqi.identity.sessions import SESSION_COOKIE
from tests.origination.world import World
from tests.web_console.conftest import post_form

PAGE = "/ops/experiments"
FORM = {"code": "MENU-ORDER", "name_zh": "期数排序实验", "name_en": "Term order",
        "arm0_code": "A", "arm0_weight": "50", "arm0_order": "term_asc", "arm0_highlight": "recommended",
        "arm1_code": "B", "arm1_weight": "50", "arm1_order": "term_desc", "arm1_highlight": "term_12",
        "arm2_code": "", "arm2_weight": "", "arm2_order": "term_asc", "arm2_highlight": "none"}


def terms_shown(html: str) -> list[int]:
    return [int(t) for t in re.findall(r'<section class="term" id="term-(\d+)">', html)]


def test_an_experiment_is_created_started_shown_to_a_shopper_and_stopped(
    client: TestClient, session: Session, world: World, sign_in: Callable[..., TestClient],
) -> None:
    officer = sign_in("risk_officer")
    bad = post_form(officer, PAGE, PAGE, {**FORM, "arm1_weight": "0", "lang": "zh"})
    assert bad.status_code == 400 and "分组权重须为 1 至 10000 的整数" in bad.text and 'value="MENU-ORDER"' in bad.text
    assert post_form(officer, PAGE, PAGE, FORM).status_code == 303
    page = officer.get(PAGE)
    assert 'id="exp-MENU-ORDER" data-status="draft"' in page.text and "未开始" in page.text
    assert post_form(officer, PAGE, f"{PAGE}/MENU-ORDER/start", {}).status_code == 303
    assert post_form(officer, PAGE, PAGE, {**FORM, "code": "MENU-OTHER"}).status_code == 303
    busy = post_form(officer, PAGE, f"{PAGE}/MENU-OTHER/start", {})
    assert busy.status_code == 409 and "实验 MENU-ORDER 正在进行，请先停止" in busy.text

    # A visitor opens the plans page: their arm's order, the exposure recorded once, the cookie set.
    client.cookies.delete(SESSION_COOKIE)
    first = client.get(f"/shop/phones/{world.sku}")
    token = client.cookies.get("fenqi_vid")
    assert first.status_code == 200 and token
    client.get(f"/shop/phones/{world.sku}")
    rows = list(session.scalars(select(Exposure)))
    assert len(rows) == 1 and rows[0].user_id is None
    assert rows[0].subject.startswith("v:") and token not in rows[0].subject  # only a hash of the cookie
    arm = arm_for("MENU-ORDER", rows[0].subject, parse_arms([
        {"code": "A", "weight": 50, "order": "term_asc", "highlight": "recommended"},
        {"code": "B", "weight": 50, "order": "term_desc", "highlight": "term_12"}]))
    assert rows[0].arm == arm.code
    shown = terms_shown(first.text)
    assert shown == sorted(shown, reverse=arm.code == "B") and len(shown) > 1
    if arm.code == "B":  # the 12-month plan is highlighted
        assert re.search(r'data-term="12" id="plan-[^"]+" data-highlight="yes"', first.text)

    officer = sign_in("risk_officer")
    assert post_form(officer, PAGE, f"{PAGE}/MENU-ORDER/stop", {}).status_code == 303
    page = officer.get(PAGE).text
    section = page.split('id="exp-MENU-ORDER"', 1)[1].split("</section>", 1)[0]
    assert 'data-status="stopped"' in page and "已停止" in section
    row = re.search(rf'<tr data-arm="{arm.code}">(.*?)</tr>', section, re.S)
    assert row and '<td class="exposed">1</td>' in row.group(1) and '<td class="signed">0</td>' in row.group(1)

    reader = sign_in("finance")
    seen = reader.get(PAGE)
    assert seen.status_code == 200 and 'id="exp-MENU-OTHER"' in seen.text and "开始实验" not in seen.text
    assert post_form(reader, PAGE, f"{PAGE}/MENU-OTHER/start", {}).status_code == 403
