"""Risk officers' pages: the review queue and a decision with its working and the review form."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.risk import service
from fenqi.risk.schemas import RiskInput

Headers = Callable[..., dict[str, str]]
MakeInput = Callable[..., RiskInput]


def test_queue_page_and_review_form(
    client: TestClient, session: Session, auth_headers: Headers, make_input: MakeInput
) -> None:
    decision = service.decide(session, make_input(phone_hash="page-phone-1",
                                                  device_imei=None, installment_fen=480_000))
    assert decision.outcome == "refer"
    officer = {**auth_headers("risk_officer"), "Accept": "text/html"}
    queue = client.get("/ops/risk/reviews", headers=officer)
    assert queue.status_code == 200
    assert f'href="/ops/risk/decisions/{decision.id}"' in queue.text and "月供占收入比例" in queue.text
    page = client.get(f"/ops/risk/decisions/{decision.id}?lang=en", headers=officer)
    assert page.status_code == 200
    assert "Refer to review" in page.text and "Re-run from the stored input: identical" in page.text
    assert 'name="verdict" value="approve"' in page.text

    empty = client.post(f"/ops/risk/decisions/{decision.id}/review?lang=en", data={"verdict": "approve", "note": " "},
                        headers=officer)
    assert empty.status_code == 400 and 'id="error"' in empty.text
    done = client.post(f"/ops/risk/decisions/{decision.id}/review", data={"verdict": "approve", "note": "核实无误"},
                       headers=officer, follow_redirects=False)
    assert done.status_code == 303
    assert service.get_decision(session, decision.id or 0).final_outcome == "approve"
    after = client.get(f"/ops/risk/decisions/{decision.id}", headers=officer)
    assert "核实无误" in after.text and 'name="verdict"' not in after.text


def test_pages_are_for_risk_officers(client: TestClient, auth_headers: Headers) -> None:
    assert client.get("/ops/risk/reviews", headers={**auth_headers("clerk", 1)}).status_code == 403
    assert client.get("/ops/risk/reviews").status_code == 401
