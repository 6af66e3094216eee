"""`fenqi identity` commands and the demo users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from fenqi.catalog.service import first_merchant_id
from fenqi.cli import app
from fenqi.identity.demo_users import DEMO_PASSWORD, seed_demo_users
from fenqi.identity.models import ApiKey, AuditEntry, User
from fenqi.identity.roles import ROLES
from fenqi.identity.service import authenticate_password, principal_for_api_key
from fenqi.identity.tokens import sha256_hex
from fenqi.kit.db import session_scope

runner = CliRunner()
USERNAME = "cli.finance.test"


@pytest.fixture()
def cli_user(engine: object) -> Iterator[str]:
    """The CLI commits through its own session; remove what it created afterwards."""
    yield USERNAME
    with session_scope() as s:
        ids = s.scalars(select(User.id).where(User.username == USERNAME)).all()
        s.execute(delete(ApiKey).where(ApiKey.user_id.in_(ids)))
        s.execute(delete(AuditEntry).where(AuditEntry.subject.in_([f"user:{i}" for i in ids])))
        s.execute(delete(AuditEntry).where(AuditEntry.subject.like("api_key:%"), AuditEntry.detail == "nightly"))
        s.execute(delete(User).where(User.id.in_(ids)))


def test_create_user_and_api_key(cli_user: str) -> None:
    r = runner.invoke(app, ["identity", "create-user", "--role", "finance", "--name", "孙财务",
                            "--username", cli_user, "--password", "ledger-pass-1"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["identity", "create-api-key", "--username", cli_user, "--name", "nightly"])
    assert r.exit_code == 0, r.output
    key = r.output.strip().splitlines()[-1]
    with session_scope() as s:
        assert principal_for_api_key(s, key).role == "finance"
        row = s.scalar(select(ApiKey).where(ApiKey.key_hash == sha256_hex(key)))
        assert row is not None and row.name == "nightly" and key not in row.key_hash
        assert authenticate_password(s, cli_user, "ledger-pass-1").display_name == "孙财务"
    r = runner.invoke(app, ["identity", "set-password", "--username", cli_user, "--password", "new-ledger-pass"])
    assert r.exit_code == 0, r.output
    with session_scope() as s:
        assert authenticate_password(s, cli_user, "new-ledger-pass").role == "finance"
    r = runner.invoke(app, ["identity", "set-password", "--username", cli_user, "--password", "short"])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "wizard", "--name", "x", "--username", "x", "--password", "long-enough"],
        ["--role", "clerk", "--name", "x", "--username", "x", "--password", "short"],
        ["--role", "shopper", "--name", "x", "--phone", "12345"],
        ["--role", "shopper", "--name", "x"],
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], engine: object) -> None:
    r = runner.invoke(app, ["identity", "create-user", *args])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_unknown_user_for_api_key(engine: object) -> None:
    r = runner.invoke(app, ["identity", "create-api-key", "--username", "nobody-here"])
    assert r.exit_code == 2 and "nobody-here" in r.output


def test_demo_seed_has_every_role_and_is_repeatable(session: Session) -> None:
    merchant_id = first_merchant_id(session)
    lines = seed_demo_users(session, merchant_id=merchant_id)
    again = seed_demo_users(session, merchant_id=merchant_id)
    assert lines == again
    roles = set(session.scalars(select(User.role)).all())
    assert roles == set(ROLES)
    assert any("admin / " + DEMO_PASSWORD in line for line in lines)
    assert authenticate_password(session, "risk", DEMO_PASSWORD).role == "risk_officer"
    assert any("13800138000" in line for line in lines)
