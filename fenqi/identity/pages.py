"""Sign-in pages (placeholder until the page flows land)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
