"""The analytics API: staff only, JSON with response models, CSV with a BOM that Excel opens."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.analytics.book import build


def test_json_csv_and_access(client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]]
                             ) -> None:
    book = build(session, suffix="API")
    finance = auth_headers("finance")
    assert client.get("/api/v1/analytics/funnel").status_code == 401
    assert client.get("/api/v1/analytics/portfolio", headers=auth_headers("clerk", book.merchant_id)).status_code == 403

    got = client.get("/api/v1/analytics/funnel?start=2026-03-01&end=2026-03-31&by=channel", headers=finance)
    assert got.status_code == 200, got.text
    rows = {r["key"]: r for r in got.json()["rows"]}
    assert rows["store"]["counts"]["handed_over"] == 2 and rows["store"]["conversion"]["applied"] == "0.8000"
    assert got.json()["drop_offs"][0]["code"] == "R_TEST"

    port = client.get("/api/v1/analytics/portfolio?d60_89=0.6", headers=finance).json()
    assert port["snapshot_date"] == "2026-04-30"
    el = {e["state"]: e for e in port["expected_loss"]}
    assert el["d60_89"]["expected_loss"] == "4200.01" and el["current"]["expected_loss"] == "113.33"
    assert port["expected_loss_total"] == "4313.34"
    assert {(v["month"], v["product_code"]): v["shares"] for v in port["vintages"]}[("2026-01", "EI-12")] == [
        "0.0000", "0.0000", "0.3333", "0.3333"]
    roll = {r["state"]: r for r in port["roll_rates"]["rows"]}
    assert roll["d1_29"]["cure_rate"] == "0.3333" and roll["current"]["to"] == {"current": 5, "d1_29": 2, "closed": 1}
    assert port["losses"] == [{"month": "2026-04", "written_off_loans": 1, "written_off": "3000.00",
                               "recovered": "500.00"}]

    bad = client.get("/api/v1/analytics/portfolio?current=2", headers=finance)
    assert bad.status_code == 400 and "计提比例" in bad.json()["message"]
    assert client.get("/api/v1/analytics/portfolio?start=2026-13", headers=finance).status_code in (400, 422)

    out = client.get("/api/v1/analytics/funnel.csv?start=2026-03-01&end=2026-03-31&by=clerk", headers=finance)
    assert out.status_code == 200 and out.headers["content-type"].startswith("text/csv")
    assert out.content.startswith(b"\xef\xbb\xbf") and 'filename="funnel-' in out.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(out.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["店员", "查看方案", "提交申请"]
    clerk = next(r for r in table[1:] if r[0] == "店员甲")
    assert clerk[1:4] == ["4", "3", "75.00%"]
    roll = client.get("/api/v1/analytics/roll_rates.csv?lang=en", headers=finance).content.decode("utf-8-sig")
    assert "1-29 days past due" in roll and "33.33%" in roll
    vint = client.get("/api/v1/analytics/vintages.csv", headers=finance).content.decode("utf-8-sig")
    assert vint.splitlines()[1] == '2026-01,等额本息 年化12%,3,"21,000.01",0.00%,0.00%,33.33%,33.33%'
    assert client.get("/api/v1/analytics/nonsense.csv", headers=finance).status_code == 422


def test_showing_a_plan_menu_records_one_view(client: TestClient, session: Session,
                                              auth_headers: Callable[..., dict[str, str]]) -> None:
    from sqlalchemy import select

    from fenqi.analytics.models import PlanView
    from tests.origination.world import build_world

    world = build_world(session, suffix="PV")
    assert client.get(f"/shop/phones/{world.sku}").status_code == 200
    assert client.get(f"/shop/phones/{world.sku}?down_payment=1000").status_code == 200  # trying a down payment
    clerk = auth_headers("clerk", world.merchant_id)
    assert client.get("/merchant/till", headers=clerk).status_code == 200
    views = session.scalars(select(PlanView).order_by(PlanView.id)).all()
    assert [(v.channel, v.sku_code, v.price_fen, v.merchant_id) for v in views] == [
        ("online", world.sku, 599_900, None), ("store", "", 0, world.merchant_id)]
    assert views[1].clerk_user_id is not None


def test_console_page_in_chinese_with_suggestions_linking_to_figures(
        client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]]) -> None:
    book = build(session, suffix="PG")
    page = client.get("/ops/analytics?start=2026-03-01&end=2026-03-31&by=store",
                      headers=auth_headers("risk_officer"))
    assert page.status_code == 200, page.text
    html = page.text
    labels = ("销售漏斗", "账龄逾期曲线", "月度迁徙率", "预期损失", "产品表现", "门店逾期对比", "导出CSV", "分析一店")
    for label in labels:
        assert label in html
    assert f'id="stores-{book.s2}"' in html and 'id="products-EI-12-12"' in html
    # The vintage chart: one curve per booking month, January's 0, 0, 33.33, 33.33 %.
    assert 'id="vintage-chart"' in html and "&#34;name&#34;: &#34;2026年1月&#34;" in html
    assert client.get("/ops/analytics", headers=auth_headers("clerk", book.merchant_id)).status_code == 403
    # Provision rates set on the page: 60% of the 60-89 bucket's 7,000.01 is 4,200.01.
    page = client.get("/ops/analytics?d60_89=0.6", headers=auth_headers("finance")).text
    assert "4,200.01" in page and 'value="0.6"' in page
    wrong = client.get("/ops/analytics?current=5", headers=auth_headers("finance"))
    assert wrong.status_code == 200 and "计提比例应为 0 到 1 之间的小数" in wrong.text
    en = client.get("/ops/analytics?lang=en", headers=auth_headers("finance"))
    assert en.status_code == 200
    got = client.get("/api/v1/analytics/products?start=2026-01-01&end=2026-04-30&min_loans=1",
                     headers=auth_headers("finance")).json()
    assert got["suggestions"][0]["evidence"] == [{"table": "stores", "key": str(book.s2), "zh": "分析二店",
                                                  "en": "分析二店"}]
    assert {p["key"]: p["funder_margin"] for p in got["products"]}["IF-MERCHANT-6"] == "-0.0800"
