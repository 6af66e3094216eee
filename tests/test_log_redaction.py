"""No secret and no personal data in the logs: the failing paths are driven through the real app (and a
real uvicorn for its access lines), everything logged — structlog's events and the standard library's
records — is captured, and the raw values are searched for."""

from __future__ import annotations

import io
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.kit.log import configure_logging, log
from fenqi.kit.redact import redact, redact_text
from fenqi.kit.settings import get_settings
from tests.origination.world import World, build_world, clean_id_number

NAME, PHONE, CARD = "欧阳锋", "13812349876", "6222021234567890128"
ID_NUMBER = clean_id_number(date(1990, 3, 7))
LOCAL_MARKER = "local-variable-value-7f3a"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(params=["console", "json"])
def logs(request: pytest.FixtureRequest, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Everything logged while the test runs, in console and in production (JSON) format."""
    buffer = io.StringIO()
    monkeypatch.setattr(get_settings(), "log_json", request.param == "json")
    configure_logging(buffer)
    yield buffer
    monkeypatch.undo()
    configure_logging()


def failing_decision(*args: Any, **kwargs: Any) -> Any:
    secret_local = LOCAL_MARKER  # noqa: F841 — a rich traceback with locals would print this
    raise RuntimeError(f"bureau refused the request for {ID_NUMBER} / {PHONE}")


def test_failing_paths_leave_no_secret_or_personal_data_in_the_logs(
    logs: io.StringIO, client: TestClient, session: Session, auth_headers: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fenqi.identity.outbox import latest_notification, text_to_send
    from fenqi.identity.service import create_user

    world: World = build_world(session, suffix="L")
    admin = auth_headers("admin")
    api_key = admin["Authorization"].removeprefix("Bearer ")
    clerk = auth_headers("clerk", world.merchant_id)
    clerk_key = clerk["Authorization"].removeprefix("Bearer ")
    application = world.body(name=NAME, id_number=ID_NUMBER, phone=PHONE, bank_card=CARD)

    # API-key requests, good and forged, with the key in a header and in a query string.
    for _ in range(3):
        assert client.get("/api/v1/identity/me", headers=admin).status_code == 200
    client.get("/api/v1/identity/me", headers={"Authorization": f"Bearer {api_key}x"})
    client.get(f"/api/v1/identity/me?api_key={api_key}&token={api_key}")

    # A failed application: the decision crashes (a 500) with the shopper's data in the request.
    monkeypatch.setattr("fenqi.origination.service.decide", failing_decision)
    failed = client.post("/api/v1/applications", json=application, headers=clerk)
    assert failed.status_code == 500 and failed.json()["error"] == "internal_error"
    # A refused application (4xx) with the same data.
    client.post("/api/v1/applications", json={**application, "bank_card": "1234"}, headers=clerk)
    monkeypatch.undo()

    # Staff sign-in with a wrong password; a shopper's code sent and guessed wrong.
    create_user(session, role="finance", display_name=NAME, username="log.finance", password="right-pass-99")
    token = _CSRF.search(client.get("/login/staff").text).group(1)  # type: ignore[union-attr]
    client.post("/login/staff", data={"username": "log.finance", "password": "wrong-pass-99", "csrf_token": token})
    sent = client.post("/login/code", data={"agree": "1", "phone": PHONE, "csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303
    sms = latest_notification(session, to=PHONE, template="login_code")
    code = re.search(r"\d{6}", text_to_send(sms)).group(0)  # type: ignore[arg-type, union-attr]
    ref = sent.headers["location"].split("c=")[1]
    client.post("/login/verify", data={"ref": ref, "code": f"{int(code[0]) ^ 1}{code[1:]}", "csrf_token": token})
    # An event logged by our own code with personal data in keys, nested dicts and the message.
    log.warning(f"lookup of {PHONE} failed", shopper={"name": NAME, "id_number": ID_NUMBER,
                                                      "cards": [CARD], "address": "上海市浦东新区张江路 1 号"},
                headers={"Authorization": f"Bearer {clerk_key}", "Cookie": "fenqi_session=abcdef0123456789"})

    text = logs.getvalue()
    assert "http.unhandled" in text and "RuntimeError" in text  # the 500 is logged, its traceback too
    for raw in (api_key, clerk_key, api_key[:20], NAME, ID_NUMBER, PHONE, CARD, code, "wrong-pass-99",
                "right-pass-99", LOCAL_MARKER, "张江路", "abcdef0123456789"):
        assert raw not in text, f"{raw!r} is in the logs"
    assert len(text) < 64_000  # a few tracebacks without locals, not hundreds of KB each
    if get_settings().log_json:
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
        assert lines and all("event" in line and "timestamp" in line for line in lines)


def test_access_lines_keep_the_path_but_no_query_string(logs: io.StringIO) -> None:
    """A real uvicorn, configured as `fenqi serve` does (log_config=None)."""
    import uvicorn

    from fenqi.api import create_app

    app = create_app()
    configure_logging(logs)  # create_app configured stderr: capture again
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="info", lifespan="off", log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz?token=tok-SECRET-1&code=654321").status_code == 200
        httpx.get(f"{base}/login/verify?c=ref-SECRET-2&next=/me", headers={"Authorization": "Bearer fq_x_SECRET-3"})
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    text = logs.getvalue()
    assert "/healthz" in text and "/login/verify" in text, text  # the access lines are there
    for raw in ("tok-SECRET-1", "654321", "ref-SECRET-2", "SECRET-3"):
        assert raw not in text


def test_redaction_by_key_and_by_pattern() -> None:
    event = redact({"user": {"password": "p@ss", "phone_enc": "v1:abc", "profile": {"full_name": NAME}},
                    "authorization": "Bearer fq_1234abcd_" + "x" * 40, "code": "123456", "error": "invalid_code",
                    "items": [{"id_number": ID_NUMBER}, f"card {CARD}"], "amount_fen": 599900})
    flat = json.dumps(event, ensure_ascii=False)
    for raw in ("p@ss", NAME, "xxxxxxxx", "123456", ID_NUMBER, CARD):
        assert raw not in flat
    assert event["error"] == "invalid_code" and event["amount_fen"] == 599900  # harmless values stay
    assert redact_text("id 11010519900307123X phone +86 138-1234-9876 ok") == "id [redacted] phone [redacted] ok"
    assert redact_text("GET /x?api_key=fq_1&page=2") == "GET /x?api_key=[redacted]&page=2"
