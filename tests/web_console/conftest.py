"""Fixtures for the console pages: a small shop (tests/origination/world.py), staff signed in on the
TestClient by a real session cookie (so that forms need their CSRF token), and applications made
through the till form."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fenqi.identity.service import create_user
from fenqi.identity.sessions import SESSION_COOKIE, start_session
from tests.origination.world import World, build_world, clean_id_number

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def world(session: Session) -> World:
    return build_world(session)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


@pytest.fixture()
def sign_in(client: TestClient, session: Session) -> Callable[..., TestClient]:
    """`sign_in(role, merchant_id=None)`: the client now carries that staff member's session cookie."""

    def make(role: str, merchant_id: int | None = None) -> TestClient:
        user = create_user(session, role=role, display_name=f"控制台{role}", merchant_id=merchant_id)
        client.cookies.set(SESSION_COOKIE, start_session(session, user))
        return client

    return make


def till_form(world: World, **overrides: Any) -> dict[str, str]:
    """A complete till order as the clerk's browser posts it."""
    from datetime import date

    form = {
        "store": world.store, "sku": world.sku, "plan": "EI-12|12", "down_payment": "1000.00",
        "imei": world.devices[0], "name": "张三丰", "id_number": clean_id_number(date(1990, 3, 7)),
        "phone": "13812345678", "bank_card": "6222021234567890128", "employment": "employed",
        "occupation": "skilled", "housing": "own", "bank_account": "salary", "savings": "20k_50k",
        "assets": "real_estate", "monthly_income": "12000.00", "employment_years": "5", "residence_years": "6",
        "existing_loans": "0", "consent_credit_inquiry": "credit-inquiry-2026.1",
        "consent_personal_info": "personal-info-2026.1",
    }
    form.update(overrides)
    return form


def post_form(client: TestClient, page: str, action: str, data: dict[str, str]) -> Any:
    """GET the page (for its CSRF token), then POST the form to `action` without following the redirect."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)
