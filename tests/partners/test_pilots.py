"""Pilots as docs/partners.md states them: the candidate gets its share of eligible applications (by a stable
hash of the application id), within ±3 points over 2,000 simulated applications; the result compares
candidate and incumbent with Wilson (rates) and bootstrap (times, amounts) 95% intervals and says whether
the difference is significant; the decision is recorded with who made it, and audited."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from fenqi.funding.routing import Candidate, choose, in_pilot
from fenqi.funding.service import current_policy, route
from fenqi.identity.models import AuditEntry
from fenqi.partners import pilots
from fenqi.partners.errors import InvalidPartner
from fenqi.partners.stats import bootstrap, percentile, rate_difference, wilson
from tests.origination.world import TODAY, World, build_world
from tests.partners.known_data import application, register
from tests.partners.test_scorecard import signed_in
from tests.web_console.conftest import csrf_of

ALL = list(pilots.METRICS)


def setup(session: Session) -> World:
    world = build_world(session)
    register(session, "P-FA", "甲银行", "funder", funder_code="FA")
    register(session, "P-FB", "乙消费金融", "funder", funder_code="FB")
    return world


def test_statistics_match_published_values() -> None:
    # Newcombe (1998): Wilson 81/263 → 0.2553–0.3662; 56/70 − 48/80 (method 10) → 0.0524–0.3339.
    w = wilson(81, 263)
    assert (round(w.low or 0, 4), round(w.high or 0, 4)) == (0.2553, 0.3662)
    d = rate_difference(wilson(56, 70), wilson(48, 80))
    assert (round(d.low or 0, 4), round(d.high or 0, 4)) == (0.0524, 0.3339)
    assert wilson(0, 0).estimate is None
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile([1, 2, 3, 4], 99) == 4
    assert bootstrap([1.0, 2.0, 3.0], rounds=200) == bootstrap([1.0, 2.0, 3.0], rounds=200)  # seeded


def test_two_thousand_applications_route_the_share_within_three_points(session: Session) -> None:
    setup(session)
    pilots.create_pilot(session, name="甲银行试点", candidate="P-FA", incumbent="P-FB", share=Decimal("0.10"),
                        starts_on=TODAY, ends_on=TODAY + timedelta(30), metrics=ALL, user_id=None)
    policy = current_policy(session)
    assert (policy.pilot_funder, policy.pilot_share) == ("FA", Decimal("0.10"))
    # 2,000 simulated applications through the routing decision under the policy the pilot published
    eligible = [Candidate("FA", Decimal("0.08"), 1, 2_000_000, 2_000_000, 20_000_000),
                Candidate("FB", Decimal("0.06"), 2, 2_000_000, 2_000_000, 20_000_000)]
    chosen = {i: choose(eligible, policy, i)[0].code for i in range(1, 2001)}
    share = sum(code == "FA" for code in chosen.values()) / 2000
    assert abs(share - 0.10) <= 0.03, share
    # the arm is the hash's, so an application always goes the same way — and funding's own routing over
    # the database agrees (lowest cost would otherwise always pick FB at 6%)
    assert all((code == "FA") == in_pilot(i, Decimal("0.10")) for i, code in chosen.items())
    assert {chosen[i] for i in range(1, 61)} == {"FA", "FB"}
    for i in range(1, 61):
        assert route(session, application_id=i, method="equal-installment", term=12, grade="B", region="31",
                     amount_fen=300_000, on=TODAY).funder_code == chosen[i]
    # after its period the nightly close takes the pilot out of routing
    pilots.sync_routing(session, TODAY + timedelta(31))
    assert current_policy(session).pilot_funder is None


def known_pilot(session: Session, world: World) -> pilots.Pilot:
    pilot = pilots.create_pilot(session, name="甲银行试点", candidate="P-FA", incumbent="P-FB",
                                share=Decimal("0.2"), starts_on=TODAY - timedelta(10), ends_on=TODAY + timedelta(20),
                                metrics=ALL, user_id=None)
    for i in range(40):  # FA: 36 of 40 signed, decisions in 10–29 s; FB: 20 of 40, 100–290 s; limits equal
        application(session, world, "FA", signed=i < 36, limit_yuan=10_000, decided_after_s=10 + i % 20)
        application(session, world, "FB", signed=i < 20, limit_yuan=10_000, decided_after_s=100 + 10 * (i % 20))
    application(session, world, "FA", signed=True, limit_yuan=1, decided_after_s=1, on=TODAY - timedelta(30))
    return pilot


def test_the_comparison_from_known_data(session: Session) -> None:
    pilot = known_pilot(session, setup(session))
    r = pilots.result(session, pilot)
    assert (r.routed, r.to_candidate, r.start, r.end) == (80, 40, TODAY - timedelta(10), TODAY)
    rate, time, limit = r.comparisons
    assert rate.candidate == wilson(36, 40) and rate.incumbent == wilson(20, 40)
    assert rate.significant and rate.better  # 90% against 50%
    assert time.candidate.estimate == 19.0 and time.incumbent.estimate == 190.0  # nearest-rank medians
    assert time.significant and time.better  # lower is better
    assert time.difference.high is not None and time.difference.high < 0
    assert limit.difference.estimate == 0 and limit.significant is False and limit.better is None


def test_decisions_are_recorded_with_who_and_audited(client: TestClient, session: Session) -> None:
    world = setup(session)
    admin = signed_in(client, session, "admin")
    page = admin.get("/ops/partners/pilots").text
    bad = admin.post("/ops/partners/pilots", data={"csrf_token": csrf_of(page), "name": "试点", "candidate": "P-FA",
                                                   "share_pct": "80", "starts_on": TODAY.isoformat(),
                                                   "ends_on": (TODAY + timedelta(9)).isoformat(), "metrics": ALL})
    assert bad.status_code == 400 and "试点比例须大于 0 且不超过 50%" in bad.text
    made = admin.post("/ops/partners/pilots", follow_redirects=False, data={
        "csrf_token": csrf_of(page), "name": "甲银行试点", "candidate": "P-FA", "incumbent": "P-FB",
        "share_pct": "10", "starts_on": (TODAY - timedelta(10)).isoformat(),
        "ends_on": (TODAY + timedelta(20)).isoformat(), "metrics": ALL})
    assert made.status_code == 303
    pilot = pilots.list_pilots(session)[0]
    with pytest.raises(InvalidPartner):
        pilots.create_pilot(session, name="再来一个", candidate="P-FB", incumbent=None, share=Decimal("0.1"),
                            starts_on=TODAY, ends_on=TODAY, metrics=ALL, user_id=None)
    for i in range(40):
        application(session, world, "FA", signed=i < 36, limit_yuan=10_000, decided_after_s=10 + i % 20)
        application(session, world, "FB", signed=i < 20, limit_yuan=10_000, decided_after_s=100 + 10 * (i % 20))
    url = made.headers["location"]
    shown = admin.get(url).text
    for text in ("试点结果", "候选方显著更好", "差异不显著", "90.0%", "共 80 笔，候选方 40 笔", "样本 40"):
        assert text in shown, text
    assert "Candidate significantly better" in admin.get(url + "?lang=en").text
    shown = admin.get(url + "?lang=zh").text
    early = admin.post(url + "/decision", data={"csrf_token": csrf_of(shown), "decision": "extend",
                                                "new_end": TODAY.isoformat()})
    assert early.status_code == 400 and "延长须给出晚于原结束日的新结束日" in early.text
    later = (pilot.ends_on + timedelta(14)).isoformat()
    assert admin.post(url + "/decision", follow_redirects=False, data={
        "csrf_token": csrf_of(shown), "decision": "extend", "new_end": later}).status_code == 303
    assert pilot.ends_on.isoformat() == later and pilot.status == "running"
    assert admin.post(url + "/decision", follow_redirects=False, data={
        "csrf_token": csrf_of(shown), "decision": "adopt", "note": "通过率更高"}).status_code == 303
    assert (pilot.status, pilot.decision, pilot.decided_by_name) == ("decided", "adopt", "测试admin")
    assert current_policy(session).pilot_funder is None  # the pilot share ends with the decision
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.subject == f"pilot:{pilot.id}")).all()
    assert sorted(actions) == ["partners.pilot.adopt", "partners.pilot.create", "partners.pilot.extend"]
    done = admin.get(url).text
    assert "采用 · 测试admin" in done and "记录决定" not in done
    audit_page = admin.get("/ops/audit?lang=zh").text
    assert "试点决定：采用" in audit_page and "partners.pilot" not in audit_page
    finance = signed_in(client, session, "finance")
    assert finance.get(f"/api/v1/partner-pilots/{pilot.id}").json()["comparisons"][0]["significant"] is True
    exported = finance.get(url + "/report.csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert lines[2][0] == "通过率（分配后签约）" and lines[2][1] == "0.9" and lines[2][4] == "40"
    assert (lines[2][12], lines[4][12]) == ("是", "否")
    # Times are Beijing time with their offset: the decision, stored in UTC, reads 8 hours later.
    decided_at = pilot.decided_at if pilot.decided_at.tzinfo else pilot.decided_at.replace(tzinfo=UTC)
    beijing = decided_at.astimezone(timezone(timedelta(hours=8))).replace(microsecond=0, tzinfo=None)
    assert lines[0][lines[0].index("决定时间") + 1] == f"{beijing:%Y-%m-%d %H:%M:%S}+08:00"
    exported_at = datetime.fromisoformat(lines[0][lines[0].index("导出时间") + 1])
    assert exported_at.utcoffset() == timedelta(hours=8)
    assert abs(exported_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert finance.post(url + "/decision", data={"csrf_token": csrf_of(done), "decision": "stop"}).status_code == 403
