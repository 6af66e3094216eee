"""Model monitoring as docs/model-card.md describes it: PSI against the training split, calibration of
the grades against the predicted default rates, alerts past the thresholds — figures recomputed here
independently from the artifact and from known decisions."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.kit.migrate import upgrade
from fenqi.risk import dataset, monitoring, service
from fenqi.risk.models import RiskDecision
from fenqi.risk.schemas import RiskInput
from fenqi.risk.scorecard import load
from tests.risk.conftest import find_id_hash

MakeInput = Callable[..., RiskInput]


def clean(n: int) -> str:
    """A distinct shopper with a clean bureau report (one shopper applying 40 times would hit velocity)."""
    return find_id_hash(f"monitor{n}", lambda r: r.credit_history == "credit_elsewhere" and not r.overdue_now
                        and r.max_dpd_24m == 0 and r.inquiries_6m <= 3 and r.open_loans == 0)


def shopper(make_input: MakeInput, tag: str, n: int, **changes: object) -> RiskInput:
    return make_input(phone_hash=f"{tag}-phone-{n:04d}", id_hash=clean(n), device_imei=None, **changes)
Headers = Callable[..., dict[str, str]]


def _psi_by_hand(expected: Sequence[float], actual: Sequence[float]) -> float:
    e = [max(x / sum(expected), 1e-4) for x in expected]
    a = [max(x / sum(actual), 1e-4) for x in actual]
    return sum((ai - ei) * math.log(ai / ei) for ei, ai in zip(e, a, strict=True))


def test_psi_on_hand_checked_cases() -> None:
    assert monitoring.psi([50, 50], [50, 50]) == 0
    # (0.25 − 0.5)·ln(0.5) + (0.75 − 0.5)·ln(1.5) = 0.17329 + 0.10137
    assert monitoring.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.274653, abs=1e-6)
    # An empty bin is floored, not infinite.
    assert math.isfinite(monitoring.psi([10, 10], [20, 0]))
    assert monitoring.level(0.05) == "stable" and monitoring.level(0.2) == "watch" and monitoring.level(0.3) == "alert"
    with pytest.raises(ValueError):
        monitoring.psi([1, 2], [1])


def test_score_reference_in_the_artifact_is_the_training_split_recomputed() -> None:
    card = load()
    try:
        train, _ = dataset.split(dataset.load_rows())
    except dataset.DatasetMissing as exc:
        pytest.skip(str(exc))
    again = monitoring.score_reference(card, [card.score(r.features).score for r in train])
    assert card.raw["reference"] == again
    assert sum(again["score_counts"]) == len(train) == 700


@pytest.fixture()
def outcomes() -> Iterator[dict[int, bool]]:
    """Outcomes for made-up application ids (the real port is tested in tests/origination)."""
    known: dict[int, bool] = {}
    saved = list(monitoring._outcomes)
    monitoring.register_outcomes(lambda s, ids: {i: known[i] for i in ids if i in known})
    yield known
    monitoring._outcomes[:] = saved


def test_known_decisions_give_the_psi_and_calibration_computed_by_hand(
    session: Session, make_input: MakeInput, outcomes: dict[int, bool]
) -> None:
    card = load()
    # 40 six-month applications from salaried shoppers: two features all in one bin, so they drift.
    decisions = [
        service.decide(session, shopper(make_input, "mon", i, application_id=90_000 + i))
        for i in range(40)
    ]
    report = monitoring.last_days(session, 30)
    assert report.decisions == 40

    by_name = {d.name: d for d in report.features}
    term = next(f for f in card.raw["features"] if f["name"] == "term")
    expected = [b["count"] for b in term["bins"]]
    assert by_name["term"].psi == pytest.approx(_psi_by_hand(expected, [40, 0, 0, 0]), abs=1e-9)
    assert by_name["term"].level == "alert"

    edges, counts = card.raw["reference"]["score_edges"], card.raw["reference"]["score_counts"]
    actual = [0] * len(counts)
    for d in decisions:
        actual[sum(1 for e in edges if d.score >= e)] += 1
    assert report.score is not None
    assert report.score.psi == pytest.approx(_psi_by_hand(counts, actual), abs=1e-9)
    assert ("term", f"{by_name['term'].psi:.3f}") in report.alerts

    # Calibration: 32 of the 40 became loans (ids known to the port), 16 of them went bad.
    for i in range(32):
        outcomes[90_000 + i] = i % 2 == 0
    approved = [d for d in decisions if d.outcome == "approve"]
    assert len(approved) == 40, "the test's applications must be approved"
    report = monitoring.last_days(session, 30)
    (cell,) = report.calibration
    predicted = sum(float(d.probability_of_default) for d in decisions[:32]) / 32
    half = 1.96 * math.sqrt(predicted * (1 - predicted) / 32)
    assert (cell.grade, cell.loans, cell.bad) == (decisions[0].grade, 32, 16)
    assert cell.observed == 0.5 and cell.predicted == pytest.approx(predicted)
    assert cell.band == pytest.approx((max(0.0, predicted - half), predicted + half))
    assert cell.outside  # 50 % bad for a grade predicted at a few per cent
    assert any(what.startswith("grade:") for what, _ in report.alerts)


def test_too_few_loans_are_not_judged(session: Session, make_input: MakeInput, outcomes: dict[int, bool]) -> None:
    for i in range(5):
        service.decide(session, shopper(make_input, "few", i, application_id=91_000 + i))
        outcomes[91_000 + i] = True
    (cell,) = monitoring.last_days(session, 30).calibration
    assert cell.loans == 5 and cell.observed == 1.0 and not cell.outside


def test_decisions_outside_the_window_are_left_out(session: Session, make_input: MakeInput) -> None:
    d = service.decide(session, shopper(make_input, "old", 1))
    row = session.get(RiskDecision, d.id)
    assert row is not None
    row.decided_at = row.decided_at.replace(year=row.decided_at.year - 1)
    session.flush()
    assert monitoring.last_days(session, 30).decisions == 0


def test_api_and_page_for_risk_officers_only(
    client: TestClient, session: Session, auth_headers: Headers, make_input: MakeInput
) -> None:
    for i in range(12):
        service.decide(session, shopper(make_input, "page", i))
    officer = auth_headers("risk_officer")
    body = client.get("/api/v1/risk/monitoring?days=7", headers=officer).json()
    assert body["decisions"] == 12 and body["model_version"] == load().version
    assert {f["name"] for f in body["features"]} == {f["name"] for f in load().raw["features"]}
    assert any(a["what"] == "term" for a in body["alerts"])
    page = client.get("/ops/risk/monitoring", headers={**officer, "Accept": "text/html"})
    assert page.status_code == 200
    assert "分期期数" in page.text and "已偏移" in page.text and 'id="monitoring-alerts"' in page.text
    queue = client.get("/ops/risk/reviews", headers={**officer, "Accept": "text/html"})
    assert 'id="monitoring-alert"' in queue.text
    assert client.get("/api/v1/risk/monitoring?days=0", headers=officer).status_code == 422
    assert client.get("/api/v1/risk/monitoring", headers=auth_headers("clerk", 1)).status_code == 403
    assert client.get("/ops/risk/monitoring").status_code == 401


def test_psi_and_calibration_csv_have_the_page_figures(
    client: TestClient, session: Session, auth_headers: Headers, make_input: MakeInput, outcomes: dict[int, bool]
) -> None:
    import csv
    import io

    from tests.html_tables import table_cells

    for i in range(12):
        service.decide(session, shopper(make_input, "csv", i, application_id=92_000 + i))
        outcomes[92_000 + i] = i % 3 == 0  # 12 loans, 4 bad
    officer = auth_headers("risk_officer")
    page = client.get("/ops/risk/monitoring?days=7", headers={**officer, "Accept": "text/html"}).text
    assert 'href="/ops/risk/monitoring/psi.csv?days=7"' in page
    for table in ("psi", "calibration"):
        out = client.get(f"/ops/risk/monitoring/{table}.csv?days=7", headers=officer)
        assert out.status_code == 200 and out.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(out.content.decode("utf-8-sig"))))
        assert rows == table_cells(page, table_id=table) and len(rows) > 1
    psi = list(csv.reader(io.StringIO(client.get("/ops/risk/monitoring/psi.csv?days=7", headers=officer)
                                      .content.decode("utf-8-sig"))))
    term = next(r for r in psi if r[0] == "分期期数")
    assert term[1] == f"{next(d for d in monitoring.last_days(session, 7).features if d.name == 'term').psi:.3f}"
    assert term[2] == "已偏移"
    calibration = next(c for c in monitoring.last_days(session, 7).calibration)
    assert calibration.loans == 12 and calibration.bad == 4
    wrong = client.get("/ops/risk/monitoring/nonsense.csv", headers={**officer, "Accept": "text/html"})
    assert wrong.status_code == 422 and wrong.headers["content-type"].startswith("text/html")
    assert client.get("/ops/risk/monitoring/psi.csv", headers=auth_headers("clerk", 1)).status_code == 403


def test_model_card_documents_the_monitoring_reference() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "model-card.md").read_text(encoding="utf-8")
    ref = load().raw["reference"]
    assert "## Monitoring" in text
    assert ", ".join(str(e) for e in ref["score_edges"]) in text


def test_monitor_command_on_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    upgrade(url)
    env = {**os.environ, "FENQI_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "fenqi", "risk", "monitor", "--days", "7"], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["decisions"], report["score"], report["alerts"]) == (0, None, [])
    bad = subprocess.run([sys.executable, "-m", "fenqi", "risk", "monitor", "--days", "0"], capture_output=True,
                         text=True, env=env, timeout=120, check=False)
    assert bad.returncode == 2 and "--days" in bad.stderr
