"""The whole OpenAPI under schemathesis: every operation, with generated valid and invalid input, called as
every role (and as nobody) over the real ASGI app and database — no server error (5xx), no answer slower
than 5 s, and every status code an operation answers is one its OpenAPI documents.

One case in eight goes to every caller; the others go to nobody and to one role picked by the case's own
content (so a failing case replays with the same callers), so every role meets its share of an operation's
(often hundreds of) boundary cases without each being sent nine times — who may call what is the route
matrix's test (tests/identity/test_identity_route_matrix.py).

The world is the demo's (catalog, products, funders, a short sales history with loans) so that generated
ids meet real rows; each request runs in its own savepoint, like the request's transaction in production,
and the whole run is rolled back at the end. FENQI_FUZZ_EXAMPLES sets the examples per operation (default
small, so that CI stays fast); run it with more for a deeper search.
"""

from __future__ import annotations

import os
import tempfile
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fenqi.api import create_app
from fenqi.domains import domain_modules
from fenqi.identity.roles import MERCHANT_ROLES, ROLES, SHOPPER
from fenqi.identity.service import create_api_key, create_user
from fenqi.kit.db import make_engine
from fenqi.kit.migrate import upgrade
from fenqi.kit.web import get_lazy_session, get_session

# In the test extras (`make test` installs them); a checkout whose venv predates it skips with the reason.
schemathesis = pytest.importorskip("schemathesis", reason="needs schemathesis: pip install -e '.[test]'")

EXAMPLES = int(os.environ.get("FENQI_FUZZ_EXAMPLES", "3"))
SLOWEST_SECONDS = 5.0
HISTORY_DAYS = "6"
ROLES_PER_CASE = 1
EVERY_CALLER_ONE_IN = 8  # a few days of demo sales: loans, payments and reviews to point ids at

app = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def callers(engine: Engine) -> Iterator[dict[str, dict[str, str]]]:
    """The demo world in one rolled-back transaction, and the headers of one caller per role. On SQLite the
    world lives in a database of its own: the driver's savepoints cannot promise that nothing of it stays
    behind for the tests that come after."""
    own = engine.dialect.name == "sqlite"
    if own:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='fenqi-fuzz-')}/fuzz.db"
        upgrade(url)
        engine = make_engine(url)
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    days = os.environ.get("FENQI_DEMO_HISTORY_DAYS")
    os.environ["FENQI_DEMO_HISTORY_DAYS"] = HISTORY_DAYS
    try:
        for module in domain_modules("seed"):
            module.seed(session)
    finally:
        if days is None:
            os.environ.pop("FENQI_DEMO_HISTORY_DAYS", None)
        else:
            os.environ["FENQI_DEMO_HISTORY_DAYS"] = days
    headers: dict[str, dict[str, str]] = {"nobody": {}}
    for role in ROLES:
        user = create_user(session, role=role, display_name=f"模糊测试{role}",
                           phone="13900000000" if role == SHOPPER else None,
                           merchant_id=1 if role in MERCHANT_ROLES else None)
        _, key = create_api_key(session, user, name="fuzz")
        headers[role] = {"Authorization": f"Bearer {key}"}
    session.flush()

    def per_request() -> Iterator[Session]:
        """One savepoint per request, always rolled back: each request meets the same seeded world, and
        PostgreSQL frees the savepoint's locks (released savepoints would pile their locks onto the one
        outer transaction until the shared lock table runs out)."""
        nested = session.begin_nested()
        try:
            yield session
            session.flush()
        finally:
            if nested.is_active:
                nested.rollback()

    app.dependency_overrides[get_session] = per_request
    app.dependency_overrides[get_lazy_session] = per_request
    try:
        yield headers
    finally:
        app.dependency_overrides.clear()
        session.close()
        outer.rollback()
        connection.close()
        if own:  # the world's own database: its connections go with it
            engine.dispose()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
def test_every_operation_as_every_role(case: Any, callers: dict[str, dict[str, str]]) -> None:
    operation = schema.raw_schema["paths"][case.operation.path].get(case.method.lower())
    # A method the operation does not have (schemathesis tries TRACE, PUT, ...): the URL may still be another
    # operation's (GET /risk/decisions/explain is GET /risk/decisions/{id}); a 405 must name the methods.
    documented = operation["responses"] if operation else None
    problems = []
    for role, headers in _callers_for(case, callers).items():
        response = case.call(headers=headers)
        if response.status_code == 405 and not response.headers.get("allow"):
            problems.append(f"{role}: 405 without Allow")
        if response.status_code >= 500:
            problems.append(f"{role}: {response.status_code} {response.text[:300]}")
        elif documented is not None and str(response.status_code) not in documented:
            problems.append(f"{role}: {response.status_code} is not among the documented {sorted(documented)}: "
                            f"{response.text[:200]}")
        if response.elapsed > SLOWEST_SECONDS:
            problems.append(f"{role}: {response.elapsed:.1f} s")
    assert not problems, f"{case.operation.label}\n{case.as_curl_command()}\n" + "\n".join(problems)


def _callers_for(case: Any, callers: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Every caller for one case in EVERY_CALLER_ONE_IN; else nobody and ROLES_PER_CASE roles, by the case."""
    content = repr((case.path_parameters, case.query, case.headers, case.cookies, case.body)).encode()
    h = zlib.crc32(content)
    if h % EVERY_CALLER_ONE_IN == 0:
        return callers
    roles = [r for r in callers if r != "nobody"]
    turn = {roles[(h // EVERY_CALLER_ONE_IN + i) % len(roles)] for i in range(ROLES_PER_CASE)}
    return {"nobody": callers["nobody"]} | {r: callers[r] for r in roles if r in turn}
