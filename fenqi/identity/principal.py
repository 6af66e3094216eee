"""Who is making a request: the result of authentication, passed to every protected endpoint."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    user_id: int
    role: str
    merchant_id: int | None
    display_name: str
