"""The experiments page of the operations console through the real app: a risk officer creates a plan-menu
experiment, starts it, a shopper sees their arm's menu (the exposure recorded), the officer stops it and reads
the arm's figures; refusals are pages in the officer's language; finance may read but not start."""

from __future__ import annotations

import csv
import io
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


def test_results_csv_has_the_page_figures(
    session: Session, world: World, sign_in: Callable[..., TestClient],
) -> None:
    from datetime import date as day
    from datetime import timedelta

    from fenqi.experiments.models import Experiment
    from tests.html_tables import table_cells
    from tests.origination.world import clean_id_number
    from tests.web_console.helpers import sell

    # Two signed sales, each by a shopper shown the menu an hour before signing: one in each arm.
    first = sell(session, world)
    second = sell(session, world, imei=world.devices[1], id_number=clean_id_number(day(1985, 6, 1)),
                  phone="13912345678")
    first.shopper_user_id, second.shopper_user_id = 880_001, 880_002
    e = Experiment(code="CSV-ARMS", name_zh="导出实验", name_en="Export", arms=FORM_ARMS, status="stopped",
                   started_at=first.signed_at - timedelta(days=1), stopped_at=second.signed_at + timedelta(hours=1))
    session.add(e)
    session.flush()
    seen = [("A", 880_001, first), ("A", None, first), ("A", None, first), ("B", 880_002, second), ("B", None, first)]
    for n, (arm, user, app) in enumerate(seen):
        session.add(Exposure(experiment_id=e.id, arm=arm, subject=f"v:csv-{n}" if user is None else f"u:{user}",
                             user_id=user, first_seen_at=app.signed_at - timedelta(hours=1),
                             business_date=app.business_date))
    session.flush()

    reader = sign_in("finance")
    page = table_cells(reader.get(PAGE).text, table_class="results")
    out = reader.get(f"{PAGE}/CSV-ARMS.csv")
    assert out.status_code == 200 and out.headers["content-type"].startswith("text/csv")
    assert 'filename="experiment-CSV-ARMS-' in out.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(out.content.decode("utf-8-sig"))))
    squeeze = [["".join(c.split()) for c in r] for r in rows]
    assert squeeze == [["".join(c.split()) for c in r] for r in page]
    # The figures themselves: 1 of 3 shoppers signed in A, 1 of 2 in B; one loan each, none delinquent.
    assert [r[4:8] for r in rows[1:]] == [["3", "1", "1", "33.33%"], ["2", "1", "1", "50.00%"]]
    assert rows[1][8] == "—" and rows[2][8] != "—" and rows[2][9:12] == ["1", "0", "0.00%"]
    assert reader.get(f"{PAGE}/NO-SUCH.csv").status_code == 404


FORM_ARMS = [{"code": "A", "weight": 50, "order": "term_asc", "highlight": "recommended"},
             {"code": "B", "weight": 50, "order": "term_desc", "highlight": "term_12"}]
