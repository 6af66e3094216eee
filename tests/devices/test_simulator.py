"""`fenqi devices simulate` against the live server: phones provisioned on loans, checked in
concurrently over HTTP, every signed answer verified, each phone's replayed first request refused."""

from __future__ import annotations

import json

from typer.testing import CliRunner


def test_simulator_checks_in_and_verifies(live_server: str) -> None:
    from fenqi.cli import app

    result = CliRunner().invoke(app, ["devices", "simulate", "--devices", "12", "--rounds", "3", "--url", live_server,
                                      "--concurrency", "6", "--replay", "--baseline", "--json",
                                      "--prefix", "sim-test"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    report = out["checkin"]
    assert report["checkins"] == 36 and report["errors"] == 0 and report["bad_signatures"] == 0
    assert report["replays_refused"] == 12 and report["replays_accepted"] == 0
    assert report["states"] == {"normal": 36}
    assert out["healthz"]["checkins"] == 36 and out["ratio_rate"] > 0
