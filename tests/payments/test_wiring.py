"""Cross-domain reactions are wired explicitly at start-up (`fenqi.wiring.install()`), so a fresh
process — a new app, the CLI — runs them, and a process that skipped the wiring refuses instead of
silently doing half the work. Each check runs in its own interpreter (subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import httpx

from tests.payments.test_order_scope import _key, _shop, application_body


def _referred(base: str, shop: dict[str, Any], clerk: dict[str, str]) -> dict[str, Any]:
    """An application a soft rule refers to a person (installment 40% of a 1,100 income)."""
    body = application_body(shop, income="1100.00")
    r = httpx.post(f"{base}/api/v1/applications", json=body, headers=clerk, timeout=30)
    assert r.status_code == 202, r.text
    return dict(r.json()["application"])


def _status(base: str, app_id: int, headers: dict[str, str]) -> str:
    return str(httpx.get(f"{base}/api/v1/applications/{app_id}", headers=headers).json()["status"])


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True,
                          timeout=180, env=dict(os.environ), cwd=os.getcwd())


def test_a_fresh_process_runs_the_review_handlers(live_server: str) -> None:
    shop = _shop()
    _, clerk = _key("clerk", shop["m1"])
    _, officer = _key("risk_officer")
    first, second = _referred(live_server, shop, clerk), _referred(live_server, shop, clerk)
    assert _status(live_server, first["id"], clerk) == _status(live_server, second["id"], clerk) == "referred"

    # Without the wiring, a review refuses rather than leaving the application stuck.
    bare = _python("""
        import sys
        from fenqi.kit.db import session_scope
        from fenqi.risk import service
        with session_scope() as s:
            service.review(s, int(sys.argv[1]), approve=True, note="checked", reviewer_id=None)
    """, str(first["decision"]["id"]))
    assert bare.returncode != 0 and "WiringMissing" in bare.stderr, bare.stderr[-2000:]
    assert _status(live_server, first["id"], clerk) == "referred"

    # A fresh app (what `fenqi serve` builds) reviewing through the API: the application moves on.
    fresh = _python("""
        import sys
        from fastapi.testclient import TestClient
        from fenqi.api import create_app
        r = TestClient(create_app()).post(f"/api/v1/risk/reviews/{sys.argv[1]}",
                                          headers={"Authorization": sys.argv[2]},
                                          json={"verdict": "approve", "note": "工资流水核实"})
        assert r.status_code == 200, r.text
    """, str(first["decision"]["id"]), officer["Authorization"])
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert _status(live_server, first["id"], clerk) == "approved"

    # The CLI in a new process: `fenqi risk review`.
    cli = subprocess.run([sys.executable, "-m", "fenqi", "risk", "review", str(second["decision"]["id"]),
                          "--verdict", "decline", "--note", "收入不足"], capture_output=True, text=True, timeout=180)
    assert cli.returncode == 0, cli.stderr[-2000:]
    assert _status(live_server, second["id"], clerk) == "declined"


def test_settling_a_down_payment_needs_the_wiring() -> None:
    """A worker that forgot `install()` must not settle a down payment without telling origination."""
    bare = _python("""
        from fenqi.payments import handlers
        handlers.paid_handlers("down_payment")
    """)
    assert bare.returncode != 0 and "WiringMissing" in bare.stderr
    wired = _python("""
        from fenqi.payments import handlers
        from fenqi.api import create_app
        create_app()
        names = {h.__name__ for h in handlers.paid_handlers("down_payment")}
        assert names == {"down_payment_paid", "exchange_difference_paid"}, names
    """)
    assert wired.returncode == 0, wired.stderr[-2000:]
